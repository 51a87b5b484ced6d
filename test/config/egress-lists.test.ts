import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '../../src/config/index.js';

const base = { USERZ_DATA_DIR: '.userz-test' };

describe('USERZ_EGRESS_LISTS', () => {
  it('is empty unless the operator names lists: setup then has no way out', () => {
    expect(loadConfig(base).sandbox.egressLists).toEqual({});
  });

  it('reads named lists of host names and *.suffix patterns, lower-cased', () => {
    const lists = loadConfig({ ...base, USERZ_EGRESS_LISTS: '{"npm":["Registry.Example.test"],"go":["proxy.example.test","*.cdn.example.test"]}' }).sandbox
      .egressLists;
    expect(lists).toEqual({ npm: ['registry.example.test'], go: ['proxy.example.test', '*.cdn.example.test'] });
  });

  it('refuses addresses, URLs, ports and malformed JSON', () => {
    for (const bad of [
      '{"npm":["10.0.0.1"]}',
      '{"npm":["https://x.example.test"]}',
      '{"npm":["x.example.test:443"]}',
      '{"npm":"x.example.test"}',
      '{npm',
      '{"Bad Name":[]}',
    ]) {
      expect(() => loadConfig({ ...base, USERZ_EGRESS_LISTS: bad })).toThrow(ConfigError);
    }
  });
});
