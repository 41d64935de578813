// Volume files: real bytes on disk.
//
// - A *base* volume holds the full logical content of a disk (`provisionedSize` bytes). Seeded disks are generated
//   deterministically from a seed (AES-256-CTR keystream keyed by sha256(seed)), lazily: the file is written the
//   first time it is needed (copy, checksum), so a 2,000-VM inventory loads instantly.
// - An *overlay* volume (the simulator's stand-in for a qcow2 COW layer) holds only the blocks written after the
//   snapshot below it: header "SIMCOW01" + u64 virtual size + u32 record count, then records
//   (u64 offset, u32 length, bytes). The logical content of a chain = base with every overlay applied in order.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import * as crypto from "node:crypto";

export const CHUNK = 1024 * 1024;
const MAGIC = Buffer.from("SIMCOW01");

export interface ChainLink {
  path: string;
  kind: "base" | "overlay";
  seed?: string;
  size: number; // virtual size
}

export interface OverlayRecord {
  offset: number;
  data: Buffer;
}

function keystream(seed: string): crypto.Cipheriv {
  const key = crypto.createHash("sha256").update(seed).digest();
  return crypto.createCipheriv("aes-256-ctr", key, Buffer.alloc(16));
}

/** Writes the deterministic base content for `seed` (size bytes) to `file` if it does not exist yet. */
export async function ensureBase(file: string, seed: string | undefined, size: number): Promise<void> {
  try {
    await fsp.access(file);
    return;
  } catch {
    /* create below */
  }
  if (!seed) throw new Error(`volume file missing: ${file}`);
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${crypto.randomBytes(4).toString("hex")}`;
  const fd = await fsp.open(tmp, "w");
  try {
    const ks = keystream(seed);
    const zero = Buffer.alloc(4 * CHUNK);
    let left = size;
    while (left > 0) {
      const n = Math.min(left, zero.length);
      const buf = ks.update(n === zero.length ? zero : zero.subarray(0, n));
      await fd.write(buf, 0, buf.length);
      left -= n;
    }
  } finally {
    await fd.close();
  }
  await fsp.rename(tmp, file);
}

/** Deterministic small delta: a few 64 KiB blocks at offsets derived from the seed. */
export function overlayRecordsFor(seed: string, size: number, blocks = 4): OverlayRecord[] {
  const recs: OverlayRecord[] = [];
  const ks = keystream(`overlay:${seed}`);
  const block = Math.min(64 * 1024, size);
  const h = crypto.createHash("sha256").update(seed).digest();
  for (let i = 0; i < blocks && size > 0; i++) {
    const slots = Math.max(1, Math.floor(size / block));
    const off = (h.readUInt32BE((i * 4) % 28) % slots) * block;
    const len = Math.min(block, size - off);
    recs.push({ offset: off, data: ks.update(Buffer.alloc(len)) });
  }
  return recs;
}

export async function writeOverlay(file: string, size: number, recs: OverlayRecord[]): Promise<number> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  const head = Buffer.alloc(20);
  MAGIC.copy(head, 0);
  head.writeBigUInt64BE(BigInt(size), 8);
  head.writeUInt32BE(recs.length, 16);
  const parts: Buffer[] = [head];
  for (const r of recs) {
    const rh = Buffer.alloc(12);
    rh.writeBigUInt64BE(BigInt(r.offset), 0);
    rh.writeUInt32BE(r.data.length, 8);
    parts.push(rh, r.data);
  }
  const all = Buffer.concat(parts);
  await fsp.writeFile(file, all);
  return all.length;
}

export async function readOverlay(file: string): Promise<{ size: number; records: OverlayRecord[] }> {
  const buf = await fsp.readFile(file);
  if (buf.length < 20 || !buf.subarray(0, 8).equals(MAGIC)) throw new Error(`not an overlay volume: ${file}`);
  const size = Number(buf.readBigUInt64BE(8));
  const n = buf.readUInt32BE(16);
  const records: OverlayRecord[] = [];
  let p = 20;
  for (let i = 0; i < n; i++) {
    const offset = Number(buf.readBigUInt64BE(p));
    const len = buf.readUInt32BE(p + 8);
    records.push({ offset, data: buf.subarray(p + 12, p + 12 + len) });
    p += 12 + len;
  }
  return { size, records };
}

/** Makes sure every base volume of the chain exists on disk. */
export async function materializeChain(chain: ChainLink[]): Promise<void> {
  for (const l of chain) if (l.kind === "base") await ensureBase(l.path, l.seed, l.size);
}

/** Streams the flattened logical content of a chain (base first). */
export async function* flatten(chain: ChainLink[]): AsyncGenerator<Buffer> {
  if (chain.length === 0 || chain[0].kind !== "base") throw new Error("volume chain must start with a base volume");
  await materializeChain(chain);
  const overlays: OverlayRecord[][] = [];
  for (const l of chain.slice(1)) overlays.push((await readOverlay(l.path)).records);
  const size = chain[chain.length - 1].size;
  const fd = await fsp.open(chain[0].path, "r");
  try {
    let pos = 0;
    while (pos < size) {
      const n = Math.min(CHUNK, size - pos);
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fd.read(buf, 0, n, pos);
      if (bytesRead < n) buf.fill(0, bytesRead);
      for (const recs of overlays) {
        for (const r of recs) {
          const end = r.offset + r.data.length;
          if (end <= pos || r.offset >= pos + n) continue;
          const from = Math.max(r.offset, pos);
          const to = Math.min(end, pos + n);
          r.data.copy(buf, from - pos, from - r.offset, to - r.offset);
        }
      }
      yield buf;
      pos += n;
    }
  } finally {
    await fd.close();
  }
}

const checksumCache = new Map<string, string>();

/** sha256 of the flattened content of a chain. Volumes are immutable once written, so results are cached. */
export async function chainSha256(chain: ChainLink[]): Promise<string> {
  const key = chain.map((l) => l.path).join("|");
  const hit = checksumCache.get(key);
  if (hit) {
    try {
      await fsp.access(chain[chain.length - 1].path);
      return hit;
    } catch {
      checksumCache.delete(key);
    }
  }
  const h = crypto.createHash("sha256");
  for await (const b of flatten(chain)) h.update(b);
  const d = h.digest("hex");
  checksumCache.set(key, d);
  return d;
}

export function forgetChecksums(prefix: string): void {
  for (const k of checksumCache.keys()) if (k.includes(prefix)) checksumCache.delete(k);
}

export function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/**
 * Paces a copy: `account(n)` is called after every chunk written and returns when the storage allows the next one
 * (storage/bandwidth.ts CopyFlow: the throughput of the domains read and written, shared with the other copies on
 * them, and the optional per-copy cap).
 */
export interface Throttle {
  account(n: number): Promise<void>;
}

export interface CopyHooks {
  throttle: Throttle;
  onBytes: (n: number) => void;
  aborted: () => string | undefined;
}

async function writeStream(dest: string, source: AsyncIterable<Buffer>, hooks: CopyHooks): Promise<number> {
  await fsp.mkdir(path.dirname(dest), { recursive: true });
  const tmp = `${dest}.part`;
  const fd = await fsp.open(tmp, "w");
  let total = 0;
  try {
    for await (const b of source) {
      const why = hooks.aborted();
      if (why) throw new Error(why);
      await fd.write(b, 0, b.length);
      total += b.length;
      hooks.onBytes(b.length);
      await hooks.throttle.account(b.length);
    }
  } catch (e) {
    await fd.close().catch(() => undefined);
    await fsp.rm(tmp, { force: true });
    throw e;
  }
  await fd.close();
  await fsp.rename(tmp, dest);
  return total;
}

async function* fileChunks(file: string): AsyncGenerator<Buffer> {
  const fd = await fsp.open(file, "r");
  try {
    for (;;) {
      const buf = Buffer.alloc(CHUNK);
      const { bytesRead } = await fd.read(buf, 0, CHUNK, null);
      if (bytesRead === 0) break;
      yield bytesRead === CHUNK ? buf : buf.subarray(0, bytesRead);
    }
  } finally {
    await fd.close();
  }
}

/** Copies one volume file byte for byte (materialising a lazy base first). */
export async function copyVolume(src: ChainLink, dest: string, hooks: CopyHooks): Promise<number> {
  if (src.kind === "base") await ensureBase(src.path, src.seed, src.size);
  return writeStream(dest, fileChunks(src.path), hooks);
}

/** Writes the flattened content of a chain as one base volume. */
export async function copyFlattened(chain: ChainLink[], dest: string, hooks: CopyHooks): Promise<number> {
  return writeStream(dest, flatten(chain), hooks);
}
