// BullMQ's queues for heartbeatKit (app.use(heartbeatKit({ jobs:
// bullmqQueues([new Queue("emails", { connection }), …]) })), the queues
// your workers consume). latency: the age of the oldest waiting job (since
// it was added, or came due if delayed); depth: the waiting jobs
// (getWaitingCount); busy: the active ones (getActiveCount). Delayed jobs
// not yet due and prioritized jobs (kept apart by BullMQ) are not counted.
function bullmqQueues(queues) {
  return () => Promise.all(queues.map(async (queue) => {
    const [depth, busy] = await Promise.all([queue.getWaitingCount(), queue.getActiveCount()]);
    const [oldest] = depth ? await queue.getWaiting(0, 0) : []; // a queue read empty has no latency
    const latencyMs = oldest ? Math.max(0, Date.now() - oldest.timestamp - (oldest.delay || 0)) : 0;
    return { name: queue.name, latencyMs, depth, busy };
  }));
}
module.exports = { bullmqQueues };
