/**
 * The program the host runs inside the sandbox to see the workspace tree: a fixed Node
 * script passed on the command line (the root file system is read-only, so neither it nor
 * `node` can be swapped by the agent). It reads the files themselves, never git's index,
 * config or objects, which the agent controls.
 *
 * `manifest`: one JSON line {p, m, h} per entry (path, git mode, git blob sha-1). When the
 * script runs inside the loader, `READ_AHEAD` (path → byte cap) may name regular files whose
 * first cap + 1 bytes the same line carries as `c` (base64): the loaded tree's own policy
 * file and instructions, read in the walk that reads every file anyway, not in an exec each.
 * `changed MAX_FILES MAX_BYTES`: reads a manifest on stdin and prints the entries whose
 * mode or content differ {p, m, h, c: base64}, then the vanished ones {p, d: 1}; prints
 * {over} and exits 3 as soon as a cap is passed so a huge tree never reaches the host.
 *
 * Modes as git records them: symlinks 120000 with the target as content, any owner
 * execute bit 100755, a directory holding `.git` is a gitlink 160000 (content: its HEAD).
 * The workspace's own top-level `.git` is skipped; nested `.git` paths are not.
 */
export const TREE_WALK_SOURCE = String.raw`
const fs = require('fs');
const crypto = require('crypto');
const ROOT = '/work';
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
const blobHash = (buf) => crypto.createHash('sha1').update('blob ' + buf.length + '\0').update(buf).digest('hex');
function gitlinkHead(dir) {
  try {
    let g = dir + '/.git';
    if (fs.lstatSync(g).isFile()) {
      const m = /^gitdir:\s*(.*)$/m.exec(fs.readFileSync(g, 'utf8'));
      if (!m) return '';
      g = m[1].startsWith('/') ? m[1] : dir + '/' + m[1];
    }
    const head = fs.readFileSync(g + '/HEAD', 'utf8').trim();
    const ref = /^ref:\s*(.*)$/.exec(head);
    if (!ref) return head;
    try { return fs.readFileSync(g + '/' + ref[1], 'utf8').trim(); } catch (e) {}
    for (const line of fs.readFileSync(g + '/packed-refs', 'utf8').split('\n')) {
      const [sha, name] = line.split(' ');
      if (name === ref[1]) return sha;
    }
  } catch (e) {}
  return '';
}
function walk(rel, visit) {
  const names = fs.readdirSync(rel ? ROOT + '/' + rel : ROOT).sort();
  for (const name of names) {
    if (!rel && name === '.git') continue;
    const r = rel ? rel + '/' + name : name;
    const abs = ROOT + '/' + r;
    const st = fs.lstatSync(abs);
    if (st.isSymbolicLink()) visit(r, '120000', fs.readlinkSync(abs, { encoding: 'buffer' }));
    else if (st.isDirectory()) {
      let nested = false;
      try { fs.lstatSync(abs + '/.git'); nested = true; } catch (e) {}
      if (nested) visit(r, '160000', Buffer.from(gitlinkHead(abs)));
      else walk(r, visit);
    } else if (st.isFile()) visit(r, st.mode & 0o100 ? '100755' : '100644', fs.readFileSync(abs));
  }
}
const hashOf = (m, c) => (m === '160000' ? 'gitlink:' + c.toString() : blobHash(c));
const mode = process.argv[1];
if (mode === 'manifest') {
  const readAhead = typeof READ_AHEAD === 'undefined' ? new Map() : READ_AHEAD;
  walk('', (p, m, c) => {
    const cap = m === '100644' || m === '100755' ? readAhead.get(p) : undefined;
    out(cap === undefined ? { p, m, h: hashOf(m, c) } : { p, m, h: hashOf(m, c), c: c.subarray(0, cap + 1).toString('base64') });
  });
} else if (mode === 'changed') {
  const maxFiles = Number(process.argv[2]);
  const maxBytes = Number(process.argv[3]);
  const base = new Map();
  for (const line of fs.readFileSync(0, 'utf8').split('\n')) {
    if (line) { const e = JSON.parse(line); base.set(e.p, e); }
  }
  let files = 0;
  let bytes = 0;
  const over = (what) => { out({ over: what }); process.exit(3); };
  const seen = new Set();
  walk('', (p, m, c) => {
    seen.add(p);
    const h = hashOf(m, c);
    const b = base.get(p);
    if (b && b.m === m && b.h === h) return;
    if (++files > maxFiles) over('files');
    bytes += c.length;
    if (bytes > maxBytes) over('bytes');
    out({ p, m, h, c: c.toString('base64') });
  });
  for (const p of base.keys()) {
    if (seen.has(p)) continue;
    if (++files > maxFiles) over('files');
    out({ p, d: 1 });
  }
} else {
  process.exit(2);
}
`;
