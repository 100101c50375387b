'use strict';
// BullMQ as an application: job queues on one server, or across two nodes.
//
//   node bullmq_app.js <producer host:port> [<worker host:port>]
//
// Queues, schedulers and QueueEvents connect to the producer address;
// Workers connect to the worker address (the producer's when only one is
// given), so with two nodes every job is queued through the first and
// processed by a worker on the second, and its events come back to the
// first through the events stream (XADD on the worker's node, XREAD BLOCK
// on the producer's).
//
// Scenarios, each with its own deadline:
//   basic      a Worker processes 50 jobs (add and addBulk); every one
//              completes with its return value, seen by the Worker, read back
//              through the Queue, and delivered as a 'completed' event to two
//              QueueEvents: one reading the stream from its start
//              (lastEventId 0-0), one from '$' (new entries only, the default);
//   retries    attempts: 3 with fixed and exponential backoff: a job failing
//              twice succeeds on its third attempt, each retry no sooner than
//              its backoff; a job failing every attempt ends failed;
//              Job.waitUntilFinished reports both;
//   delayed    delayed jobs stay 'delayed' and start no sooner than their
//              delay, the shorter delay first;
//   priorities jobs added to a paused queue are not processed while it is
//              paused, then in priority order (ties in insertion order);
//   repeatable a job scheduler (every 200 ms, limit 3) fires exactly 3 times.
//
// Prints `RESULT <json>` (what each scenario observed) and exits 0 when every
// scenario passed; exits 1 with `FAIL: <scenario>: <reason>` for each one
// that failed (an error reply from the server, such as an unknown command,
// is reported as it arrived; the other scenarios still run, within a time
// budget), 2 on bad arguments, 3 when the whole run passes the
// watchdog (LATTICE_BULLMQ_WATCHDOG_MS, default 50000). BullMQ is found
// through NODE_PATH (installed by deploy/install-deps.sh --with-tests, never
// into the checkout).

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { Queue, QueueEvents, Worker } = require('bullmq');
const IORedis = require('ioredis');

function parseAddress(arg) {
  const m = /^([^:]+):(\d+)$/.exec(arg || '');
  return m ? { host: m[1], port: Number(m[2]) } : null;
}

const args = process.argv.slice(2);
const producerAddr = parseAddress(args[0]);
const workerAddr = args.length > 1 ? parseAddress(args[1]) : producerAddr;
if (!producerAddr || !workerAddr || args.length > 2) {
  console.error('usage: node bullmq_app.js <producer host:port> [<worker host:port>]');
  process.exit(2);
}

const WATCHDOG_MS = Number(process.env.LATTICE_BULLMQ_WATCHDOG_MS || 50000);
setTimeout(() => {
  console.error(`FAIL: no result after ${WATCHDOG_MS} ms (hung?)`);
  process.exit(3);
}, WATCHDOG_MS).unref();

// Connection options for every BullMQ object. maxRetriesPerRequest: null is
// what BullMQ requires of a Worker's connections; a lost connection is given
// up after a few attempts instead of retried forever.
function connection(addr) {
  return {
    host: addr.host,
    port: addr.port,
    maxRetriesPerRequest: null,
    connectTimeout: 5000,
    retryStrategy: (times) => (times > 3 ? null : 200),
  };
}

const RUN_ID = `${Date.now().toString(36)}-${crypto.randomBytes(3).toString('hex')}`;
const queueName = (scenario) => `lattice-${RUN_ID}-${scenario}`;

// Everything a scenario opens, closed at its end whatever happened; and
// every 'error' event of every object: BullMQ reports a failed command
// (an unknown XREAD, say) as an event and keeps retrying, so a scenario
// waiting on progress fails with the first one instead of timing out.
class Scope {
  constructor(name) {
    this.name = name;
    this.objects = [];
    this.errors = [];
    // Rejected with the first error: raced against single long waits.
    this.failed = new Promise((_, reject) => { this.fail = reject; });
    this.failed.catch(() => {});
  }

  track(obj, what) {
    obj.on('error', (e) => {
      this.errors.push(`${what}: ${e && e.message ? e.message : e}`);
      this.fail(new Error(`server error: ${this.errors[0]}`));
    });
    this.objects.push(obj);
    return obj;
  }

  queue(name) {
    return this.track(new Queue(name, { connection: connection(producerAddr) }), 'Queue');
  }

  queueEvents(name, opts = {}) {
    return this.track(new QueueEvents(name, { connection: connection(producerAddr), ...opts }),
                      'QueueEvents');
  }

  worker(name, processor, opts = {}) {
    return this.track(new Worker(name, processor, {
      connection: connection(workerAddr), drainDelay: 1, ...opts,
    }), 'Worker');
  }

  check() {
    if (this.errors.length) throw new Error(`server error: ${this.errors[0]}`);
  }

  // `promise`, failing early on a recorded error and after `ms`.
  settle(promise, ms, what) {
    return withTimeout(Promise.race([promise, this.failed]), ms, what);
  }

  // Polls `cond` every 10 ms until it holds; fails on a recorded error or
  // after `ms`, with `describe()` saying what was seen.
  async waitFor(cond, ms, what, describe = () => '') {
    const deadline = Date.now() + ms;
    for (;;) {
      this.check();
      if (await cond()) return;
      if (Date.now() > deadline) {
        const seen = describe();
        throw new Error(`timed out after ${ms} ms waiting for ${what}${seen ? `; saw ${seen}` : ''}`);
      }
      await sleep(10);
    }
  }

  // The negative counterpart: `cond` must hold throughout `ms`.
  async holdFor(cond, ms, what) {
    const deadline = Date.now() + ms;
    for (;;) {
      this.check();
      if (!(await cond())) throw new Error(`${what} stopped holding`);
      if (Date.now() > deadline) return;
      await sleep(20);
    }
  }

  async close() {
    // Workers first (they stop taking jobs), then whatever they talked to.
    const order = [...this.objects].sort((a, b) => (b instanceof Worker) - (a instanceof Worker));
    for (const obj of order) {
      await obj.close().catch(() => {});
    }
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// Adds probe jobs until `events` (reading from '$') reports one completed:
// from then on its XREAD BLOCK is certainly waiting on the stream, and no
// later event can be missed.
async function probeUntilListening(scope, queue, events) {
  const seen = new Set();
  const onCompleted = ({ jobId }) => seen.add(jobId);
  events.on('completed', onCompleted);
  try {
    for (let i = 0; i < 20; i++) {
      const job = await queue.add('probe', { probe: i });
      const deadline = Date.now() + 500;
      while (Date.now() < deadline) {
        scope.check();
        if (seen.has(job.id)) return i + 1;
        await sleep(10);
      }
    }
    throw new Error('QueueEvents (from $) saw no completed event for 20 probe jobs');
  } finally {
    events.off('completed', onCompleted);
  }
}

const scenarios = {
  async basic(s) {
    const N = 50;
    const name = queueName('basic');
    const queue = s.queue(name);
    const fromStart = s.queueEvents(name, { lastEventId: '0-0' });
    const live = s.queueEvents(name);
    await Promise.all([queue.waitUntilReady(), fromStart.waitUntilReady(), live.waitUntilReady()]);
    const workerSeen = new Map();
    const worker = s.worker(name, async (job) => {
      if (job.name === 'probe') return 'probe';
      return { doubled: job.data.n * 2, name: job.name };
    }, { concurrency: 5 });
    worker.on('completed', (job, value) => workerSeen.set(job.id, value));
    await worker.waitUntilReady();
    const probes = await probeUntilListening(s, queue, live);

    const events = { fromStart: new Map(), live: new Map() };
    fromStart.on('completed', ({ jobId, returnvalue }) => events.fromStart.set(jobId, returnvalue));
    live.on('completed', ({ jobId, returnvalue }) => events.live.set(jobId, returnvalue));

    const ids = [];
    for (let n = 0; n < N / 2; n++) ids.push((await queue.add('single', { n })).id);
    const bulk = await queue.addBulk(
      Array.from({ length: N / 2 }, (_, k) => ({ name: 'bulk', data: { n: N / 2 + k } })));
    ids.push(...bulk.map((j) => j.id));
    assert.equal(new Set(ids).size, N, 'job ids are unique');
    const expected = (i) => ({ doubled: 2 * i, name: i < N / 2 ? 'single' : 'bulk' });

    const done = (m) => ids.every((id) => m.has(id));
    const count = (m) => `${ids.filter((id) => m.has(id)).length}/${N}`;
    await s.waitFor(() => done(workerSeen), 10000, `the worker to complete ${N} jobs`,
                    () => count(workerSeen));
    await s.waitFor(() => done(events.fromStart) && done(events.live), 10000,
                    `'completed' events for ${N} jobs`,
                    () => `from 0-0 ${count(events.fromStart)}, from $ ${count(events.live)}`);
    ids.forEach((id, i) => {
      assert.deepEqual(workerSeen.get(id), expected(i), `worker's return value of job ${id}`);
      assert.deepEqual(events.fromStart.get(id), expected(i), `event (from 0-0) of job ${id}`);
      assert.deepEqual(events.live.get(id), expected(i), `event (from $) of job ${id}`);
    });
    // The producer's node has the results too (replicated, with two nodes).
    await s.waitFor(async () => (await queue.getJobCounts('completed')).completed >= N + probes,
                    5000, 'completed count on the producer');
    for (let i = 0; i < N; i++) {
      const job = await queue.getJob(ids[i]);
      assert.ok(job, `job ${ids[i]} readable through the queue`);
      assert.deepEqual(job.returnvalue, expected(i), `stored return value of job ${ids[i]}`);
      assert.equal(await job.getState(), 'completed');
    }
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
    assert.deepEqual(counts, { waiting: 0, paused: 0, active: 0, delayed: 0, failed: 0,
                               completed: N + probes });
    return { jobs: N, completed: counts.completed - probes,
             eventsFrom0: ids.filter((id) => events.fromStart.has(id)).length,
             eventsFromDollar: ids.filter((id) => events.live.has(id)).length };
  },

  async retries(s) {
    const name = queueName('retries');
    const queue = s.queue(name);
    const events = s.queueEvents(name);
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    const attempts = {};  // job name -> [{ at, attemptsMade }], one per attempt
    const worker = s.worker(name, async (job) => {
      const log = (attempts[job.name] = attempts[job.name] || []);
      log.push({ at: Date.now(), attemptsMade: job.attemptsMade });
      if (job.attemptsMade < job.data.failUntil) {
        throw new Error(`planned failure ${job.attemptsMade + 1}`);
      }
      return `ok after ${job.attemptsMade + 1} attempts`;
    });
    await worker.waitUntilReady();
    const fixed = await queue.add('fixed', { failUntil: 2 },
                                  { attempts: 3, backoff: { type: 'fixed', delay: 150 } });
    const expo = await queue.add('exponential', { failUntil: 2 },
                                 { attempts: 3, backoff: { type: 'exponential', delay: 100 } });
    const doomed = await queue.add('doomed', { failUntil: 99 },
                                   { attempts: 2, backoff: { type: 'fixed', delay: 100 } });

    const ttl = 10000;
    const finished = (job) => s.settle(job.waitUntilFinished(events, ttl), ttl,
                                       `job ${job.name} to finish (Job.waitUntilFinished)`);
    assert.equal(await finished(fixed), 'ok after 3 attempts');
    assert.equal(await finished(expo), 'ok after 3 attempts');
    const doomedOutcome = await finished(doomed).then((value) => ({ value }),
                                                      (e) => ({ rejected: e.message }));
    s.check();
    assert.deepEqual(doomedOutcome, { rejected: 'planned failure 2' },
                     'Job.waitUntilFinished of the job failing every attempt');

    const gaps = {};
    for (const [jobName, want] of [['fixed', [150, 150]], ['exponential', [100, 200]],
                                   ['doomed', [100]]]) {
      const log = attempts[jobName] || [];
      assert.deepEqual(log.map((a) => a.attemptsMade), want.map((_, i) => i).concat(want.length),
                       `${jobName}: attemptsMade seen by the processor on each attempt`);
      gaps[jobName] = log.slice(1).map((a, i) => a.at - log[i].at);
      gaps[jobName].forEach((gap, i) => {
        // Milliseconds on both sides: allow the rounding of one.
        assert.ok(gap >= want[i] - 1, `${jobName}: retry ${i + 1} came ${gap} ms after the ` +
                  `failed attempt, before its backoff of ${want[i]} ms`);
      });
    }
    const stored = {};
    for (const job of [fixed, expo, doomed]) {
      const j = await queue.getJob(job.id);
      stored[job.name] = { state: await j.getState(), attemptsMade: j.attemptsMade,
                           failedReason: j.failedReason || null };
    }
    // A job that completed on a retry keeps the reason of its last failure.
    assert.deepEqual(stored, {
      fixed: { state: 'completed', attemptsMade: 3, failedReason: 'planned failure 2' },
      exponential: { state: 'completed', attemptsMade: 3, failedReason: 'planned failure 2' },
      doomed: { state: 'failed', attemptsMade: 2, failedReason: 'planned failure 2' },
    });
    return { stored, gapsAtLeast: { fixed: [150, 150], exponential: [100, 200], doomed: [100] },
             gapsMs: gaps };
  },

  async delayed(s) {
    const name = queueName('delayed');
    const queue = s.queue(name);
    await queue.waitUntilReady();
    const started = {};
    const worker = s.worker(name, async (job) => {
      started[job.name] = Date.now();
      return job.name;
    });
    await worker.waitUntilReady();
    const t0 = Date.now();
    const late = await queue.add('late', {}, { delay: 700 });
    const soon = await queue.add('soon', {}, { delay: 400 });
    const states = { late: await late.getState(), soon: await soon.getState() };
    assert.deepEqual(states, { late: 'delayed', soon: 'delayed' });
    assert.equal((await queue.getJobCounts('delayed')).delayed, 2);
    await s.waitFor(() => started.late && started.soon, 10000, 'both delayed jobs to run',
                    () => JSON.stringify(Object.keys(started)));
    const after = { soon: started.soon - t0, late: started.late - t0 };
    assert.ok(after.soon >= 400, `the 400 ms job started after ${after.soon} ms`);
    assert.ok(after.late >= 700, `the 700 ms job started after ${after.late} ms`);
    assert.ok(started.soon <= started.late, 'the shorter delay ran first');
    await s.waitFor(async () => (await queue.getJobCounts('completed')).completed === 2, 5000,
                    'both delayed jobs completed on the producer');
    return { states, order: ['soon', 'late'], startedNoSoonerThan: { soon: 400, late: 700 } };
  },

  async priorities(s) {
    const name = queueName('priorities');
    const queue = s.queue(name);
    await queue.waitUntilReady();
    await queue.pause();
    const order = [];
    const worker = s.worker(name, async (job) => {
      order.push(job.name);
    }, { concurrency: 1 });
    await worker.waitUntilReady();
    const priorities = [5, 1, 3, 1, 4, 2, 5, 3, 2, 1];
    for (let i = 0; i < priorities.length; i++) {
      await queue.add(`p${priorities[i]}-${i}`, { i }, { priority: priorities[i] });
    }
    assert.equal((await queue.getJobCounts('prioritized')).prioritized, priorities.length);
    // A paused queue hands out nothing: watched over a bounded window.
    await s.holdFor(() => order.length === 0, 300, 'nothing processed while paused');
    assert.equal(await queue.isPaused(), true);
    await queue.resume();
    await s.waitFor(() => order.length === priorities.length, 10000,
                    `${priorities.length} prioritized jobs processed`, () => order.join(','));
    const want = priorities.map((p, i) => ({ p, i, name: `p${p}-${i}` }))
      .sort((a, b) => a.p - b.p || a.i - b.i).map((x) => x.name);
    assert.deepEqual(order, want, 'processed by priority (1 first), ties in insertion order');
    return { order };
  },

  async repeatable(s) {
    const name = queueName('repeatable');
    const queue = s.queue(name);
    await queue.waitUntilReady();
    const runs = [];
    const worker = s.worker(name, async (job) => {
      // When the iteration was due: BullMQ 5 names an iteration's job
      // repeat:<scheduler id>:<due time in ms>.
      const m = /^repeat:tick:(\d+)$/.exec(job.id);
      runs.push({ at: Date.now(), name: job.name, data: job.data, id: job.id,
                  due: m ? Number(m[1]) : NaN, count: job.opts.repeat.count });
      return runs.length;
    });
    await worker.waitUntilReady();
    const every = 200;
    const limit = 3;
    await queue.upsertJobScheduler('tick', { every, limit },
                                   { name: 'tick', data: { from: 'scheduler' } });
    await s.waitFor(() => runs.length >= limit, 10000, `${limit} runs of the repeatable job`,
                    () => `${runs.length} runs`);
    // No run past the limit, watched for a few periods.
    await s.holdFor(() => runs.length === limit, 3 * every, `exactly ${limit} runs`);
    runs.forEach((r) => {
      assert.ok(Number.isFinite(r.due), `iteration job id ${r.id}`);
      assert.equal(r.name, 'tick');
      assert.deepEqual(r.data, { from: 'scheduler' });
    });
    assert.deepEqual(runs.map((r) => r.count), [1, 2, 3], 'iteration counts');
    // The first iteration is due at once; from there on they are due
    // `every` ms apart (a multiple of it if the worker fell behind), and none
    // starts before it is due (milliseconds on both sides: one of rounding).
    const spacing = runs[2].due - runs[1].due;
    assert.ok(spacing > 0 && spacing % every === 0,
              `iterations 2 and 3 due ${spacing} ms apart (every ${every})`);
    runs.forEach((r, i) => assert.ok(r.at >= r.due - 1,
                                     `iteration ${i + 1} ran ${r.due - r.at} ms before it was due`));
    await queue.removeJobScheduler('tick');
    return { runs: runs.length, every, limit };
  },
};

// A plain connection first: a server that cannot be reached fails here with
// the reason (ECONNREFUSED...) instead of as BullMQ's retries and timeouts.
// Also records the redis_version BullMQ reads from INFO (it refuses < 5.0.0
// and picks its blocking timeouts by it).
async function preflight(addr) {
  const client = new IORedis({ host: addr.host, port: addr.port, lazyConnect: true,
                               maxRetriesPerRequest: 0, retryStrategy: () => null,
                               connectTimeout: 5000 });
  // ioredis rejects connect() with "Connection is closed."; the reason
  // (ECONNREFUSED...) comes as an 'error' event.
  let reason = null;
  client.on('error', (e) => { reason = reason || e; });
  try {
    await client.connect().catch((e) => { throw reason || e; });
    const info = await client.info('server');
    const version = (/^redis_version:(.*)$/m.exec(info) || [])[1];
    return { address: `${addr.host}:${addr.port}`, redis_version: version ? version.trim() : null };
  } finally {
    client.disconnect();
  }
}

async function main() {
  const result = { producer: `${producerAddr.host}:${producerAddr.port}`,
                   worker: `${workerAddr.host}:${workerAddr.port}`, servers: [], scenarios: {} };
  for (const addr of args.length > 1 ? [producerAddr, workerAddr] : [producerAddr]) {
    try {
      result.servers.push(await preflight(addr));
    } catch (e) {
      console.error(`FAIL: cannot use ${addr.host}:${addr.port}: ${e.code || ''} ${e.message}`);
      return 1;
    }
  }
  // The scenarios are independent (a queue each): after a failure the
  // others still run, for a fuller picture, while the run stays well inside
  // the watchdog (a scenario takes at most 15 s plus 5 s to close).
  const started = Date.now();
  const failed = [];
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (failed.length && Date.now() - started > 25000) {
      console.error(`FAIL: ${name}: not run (out of time after earlier failures)`);
      failed.push(name);
      continue;
    }
    const scope = new Scope(name);
    const t0 = Date.now();
    try {
      result.scenarios[name] = await withTimeout(scenario(scope), 15000, `scenario ${name}`);
      scope.check();
      console.log(`ok ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      const extra = scope.errors.length ? `\n  errors reported by BullMQ:\n    ${
        [...new Set(scope.errors)].slice(0, 10).join('\n    ')}` : '';
      console.error(`FAIL: ${name}: ${e.message}${extra}`);
      failed.push(name);
    }
    try {
      await withTimeout(scope.close(), 5000, `closing scenario ${name}`);
    } catch (e) {
      console.error(`FAIL: ${name}: ${e.message}`);
      if (!failed.includes(name)) failed.push(name);
    }
  }
  if (failed.length) {
    console.error(`FAIL: ${failed.length} of ${Object.keys(scenarios).length} scenarios ` +
                  `failed: ${failed.join(', ')}`);
    return 1;
  }
  console.log('RESULT ' + JSON.stringify(result));
  return 0;
}

main().then((code) => { process.exitCode = code; },
            (e) => { console.error('FAIL: ' + (e && e.stack ? e.stack : e)); process.exitCode = 1; });
