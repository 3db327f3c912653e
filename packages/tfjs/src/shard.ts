// One shard's side of data-parallel EM (sharded.ts): a pass, the first
// M-step's statistics or the final scoring over the shard's own blocks. A
// shard worker answers the main thread with it; with ShardPoolOptions.callingThread
// the calling thread answers for its own shard with the same code.
import type { CovarianceFamily, PluginContext } from '@gmmkit/core';
import { accumulateResponsibilities, emPass, scorePass, type RowBlocks } from './engine.js';
import type { FromShard, ToShard } from './sharded.js';

export class Shard {
  constructor(
    private readonly family: CovarianceFamily,
    readonly blocks: RowBlocks,
    private readonly ctx: PluginContext,
  ) {}

  /** The reply to one request (errors are thrown: the caller reports them its own way). */
  answer(msg: ToShard): FromShard {
    const { family, blocks, ctx } = this;
    const { tf } = ctx;
    if (msg.type === 'resp') {
      return { type: 'result', stats: accumulateResponsibilities(tf, family, blocks, msg.assigned, msg.reference, ctx), totalLogLikelihood: 0 };
    }
    if (msg.type === 'score') return { type: 'score', ...scorePass(tf, family, msg.params, blocks, ctx) };
    return { type: 'result', ...emPass(tf, family, msg.params, blocks, ctx, msg.reference) };
  }

  dispose(): void {
    this.blocks.dispose();
  }
}
