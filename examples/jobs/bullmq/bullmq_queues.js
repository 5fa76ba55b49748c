// BullMQ's queues for heartbeatKit (app.use(heartbeatKit({ jobs:
// bullmqQueues([new Queue("emails", { connection }), …]) })), the queues
// your workers consume). latency: the age of the oldest waiting job (since
// it was added, or came due if delayed); depth: the waiting jobs
// (getWaitingCount); busy: the active ones (getActiveCount). Delayed jobs
// not yet due and prioritized jobs (kept apart by BullMQ) are not counted.
function bullmqQueues(queues) {
  return () => Promise.all(queues.map(async (queue) => {
    const [[oldest], depth, busy] = await Promise.all([queue.getWaiting(0, 0), queue.getWaitingCount(), queue.getActiveCount()]);
    const since = oldest ? oldest.timestamp + (oldest.delay || 0) : Date.now();
    return { name: queue.name, latencyMs: Math.max(0, Date.now() - since), depth, busy };
  }));
}
module.exports = { bullmqQueues };
