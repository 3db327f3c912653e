// A strict TypeScript consumer of the Node-only package: @gmmkit/distributed's
// declarations pull in ioredis's and bullmq's, which need Node's (@types/node).
import { fitDistributed, type DistributedFitOptions, type DistributedFitResult } from '@gmmkit/distributed';

export function fitOnCluster(options: DistributedFitOptions): Promise<DistributedFitResult> {
  return fitDistributed(options);
}
