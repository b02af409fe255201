/**
 * The latency trace's client (ttfc-trace.ts), on its own thread as the macro bench's load generator
 * is (load-worker.ts): the AI worker runs on the main thread, and a client there could not read
 * the first chunk while the worker seals the rest of the answer. One POST per message, answered
 * with its times (`hrMs()`, the process's clock) and, where asked, the scheduler counters at the
 * client's points.
 */
import { Agent } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { schedReader } from './cpu-time.js';
import { type PostTimes, postTimed } from './stack-targets.js';

/** What the main thread says the client thread should read at its points (ttfc-trace.ts `schedOf`). */
export interface ClientSched {
  node: { pids: number[]; name: string };
  workerd: Record<string, number[]>;
  model: { pids: number[]; name: string };
}

export interface ClientJob {
  target: string;
  url: string;
  apiKey: string;
  body: string;
  sched: boolean;
}

type Counters = Record<'node' | 'workerd' | 'model', { runNs: number; waitNs: number }>;

export interface ClientResult {
  times: PostTimes;
  sched: Partial<Record<'clientHead' | 'firstByte' | 'firstEvent', Counters>>;
}

const config = workerData as ClientSched;
const agents = new Map<string, Agent>();
const readers = new Map<string, () => Counters>();

function readerFor(target: string): () => Counters {
  let r = readers.get(target);
  if (!r) {
    const node = schedReader(config.node.pids, config.node.name);
    const workerd = schedReader(config.workerd[target] ?? [], 'workerd');
    const model = schedReader(config.model.pids, config.model.name);
    r = () => ({ node: node(), workerd: workerd(), model: model() });
    readers.set(target, r);
  }
  return r;
}

parentPort!.on('message', (job: ClientJob) => {
  let agent = agents.get(job.target);
  if (!agent) {
    agent = new Agent({ keepAlive: true, maxSockets: 1 });
    agents.set(job.target, agent);
  }
  const sched: ClientResult['sched'] = {};
  const read = job.sched ? readerFor(job.target) : null;
  postTimed(agent, job.url, job.apiKey, job.body, (p) => {
    if (read) sched[p === 'head' ? 'clientHead' : p] ??= read();
  }).then(
    (times) => parentPort!.postMessage({ times, sched } satisfies ClientResult),
    (e: unknown) => parentPort!.postMessage({ error: String(e) }),
  );
});
