// A worker's parsed shards, kept in memory under a byte budget so a shard is
// read once per worker, not once per EM iteration: the raw rows (float64) and,
// for the fit running on them, the centered rows uploaded as the engine's
// float32 blocks. Least recently used shards are dropped first.
import { BLOCK_CACHE_BYTES, centerRows, tf, uploadCentered, type RowBlocks } from '@gmmkit/tfjs';

/** A shard as the reader returns it: rows [rows, cols] row-major, float64, and the column names. */
export interface ShardTable {
  rows: number;
  cols: number;
  data: Float64Array;
  columns: string[];
}

/**
 * Reads one shard (a path or URL) into rows; `columns` is the coordinator's
 * column selection, passed through. The CLI's worker uses gmm's own table
 * reader (CSV/TSV, JSON, NDJSON and the other formats `gmm fit` reads).
 */
export type ShardReader = (source: string, options: { columns?: string | undefined }) => Promise<ShardTable>;

interface Entry {
  table: ShardTable;
  /** The rows centered on `center` as float32 blocks of `chunkSize` rows. */
  blocks?: { center: string; chunkSize: number; blocks: RowBlocks; bytes: number } | undefined;
}

/** Parsed shards under a budget of `budget` bytes (host float64 rows + uploaded float32 blocks and their block cache). */
export class ShardCache {
  private readonly entries = new Map<string, Entry>();
  /** Reads in progress, shared by concurrent jobs on the same shard. */
  private readonly reading = new Map<string, Promise<ShardTable>>();

  constructor(
    private readonly budget: number,
    private readonly read: ShardReader,
  ) {}

  private static key(source: string, columns: string | undefined): string {
    return `${columns ?? ''}\u0000${source}`;
  }

  /** Bytes held now. */
  get bytes(): number {
    let total = 0;
    for (const e of this.entries.values()) total += e.table.data.byteLength + (e.blocks?.bytes ?? 0);
    return total;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The shard's rows, read now unless cached. */
  async table(source: string, columns: string | undefined): Promise<ShardTable> {
    const key = ShardCache.key(source, columns);
    const hit = this.entries.get(key);
    if (hit) {
      this.entries.delete(key); // re-insert: most recently used last
      this.entries.set(key, hit);
      return hit.table;
    }
    let pending = this.reading.get(key);
    if (pending === undefined) {
      pending = this.read(source, { columns });
      this.reading.set(key, pending);
    }
    try {
      const table = await pending;
      if (!this.entries.has(key)) {
        this.entries.set(key, { table });
        this.evict(key);
      }
      return table;
    } finally {
      this.reading.delete(key);
    }
  }

  /**
   * The rows of `table` (as returned by table() for this source and
   * columns) centered on `center` [cols], as blocks of `chunkSize` rows,
   * uploaded once per (center, chunkSize) while the shard stays cached. Use
   * them synchronously, with no await after table(): a later read may evict
   * them. `owned` is true when they are not cached (the shard does not fit
   * the budget) and the caller must dispose them.
   */
  blocks(
    table: ShardTable,
    source: string,
    columns: string | undefined,
    centerKey: string,
    center: Float64Array,
    chunkSize: number,
  ): { blocks: RowBlocks; owned: boolean } {
    const key = ShardCache.key(source, columns);
    const entry = this.entries.get(key);
    const cached = entry?.table === table ? entry.blocks : undefined;
    if (cached !== undefined && cached.center === centerKey && cached.chunkSize === chunkSize)
      return { blocks: cached.blocks, owned: false };
    const { rows, cols, data } = table;
    const upload = (cacheBytes: number): RowBlocks =>
      uploadCentered(tf, centerRows(data, rows, cols, center), rows, cols, chunkSize, cacheBytes);
    if (entry === undefined || entry.table !== table) return { blocks: upload(0), owned: true };
    cached?.blocks.dispose();
    entry.blocks = undefined;
    const tensorBytes = rows * cols * 4;
    const hostBytes = rows * cols * 8;
    // The block cache (per-block tensors the families keep) gets a quarter of the room left.
    const room = this.budget - this.bytes - tensorBytes - hostBytes;
    const cacheBytes = Math.max(0, Math.min(BLOCK_CACHE_BYTES, Math.floor(room / 4)));
    const blocks = upload(cacheBytes);
    // float32 blocks, their block cache, and the centered float64 host copy
    entry.blocks = { center: centerKey, chunkSize, blocks, bytes: tensorBytes + cacheBytes + hostBytes };
    this.evict(key);
    return { blocks, owned: this.entries.get(key)?.blocks?.blocks !== blocks };
  }

  /** Drops least recently used shards (never `keep`'s table) until the budget holds; `keep` loses its blocks only as a last resort. */
  private evict(keep: string): void {
    for (const [key, e] of this.entries) {
      if (this.bytes <= this.budget) return;
      if (key === keep) continue;
      e.blocks?.blocks.dispose();
      this.entries.delete(key);
    }
    if (this.bytes > this.budget) {
      const e = this.entries.get(keep);
      if (e?.blocks !== undefined) {
        // Not disposed here: the caller is about to use them and owns them now.
        e.blocks = undefined;
      }
      if (this.bytes > this.budget) this.entries.delete(keep);
    }
  }

  /** Frees every tensor and forgets every shard. */
  clear(): void {
    for (const e of this.entries.values()) e.blocks?.blocks.dispose();
    this.entries.clear();
  }
}
