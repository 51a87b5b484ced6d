import type { BlobStore, Db } from '../../store/index.js';
import type { ConsoleAuth } from '../context.js';

/** What the console's report, review and run pages need: who is signed in, the database and the private blob store. */
export interface ConsolePagesDeps {
  auth: ConsoleAuth;
  db: Db;
  blobs: BlobStore;
}
