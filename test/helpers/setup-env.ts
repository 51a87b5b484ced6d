// Every test file starts with the network closed. Only loopback (Postgres, Redis, the
// app under test) is reachable; dockerode's Unix socket goes through the same check.
import nock from 'nock';

nock.disableNetConnect();
nock.enableNetConnect((host) => host.startsWith('localhost') || host.startsWith('127.') || host.startsWith('[::1]'));
