'use strict';
// Evaluates boolean flags through the real OpenFeature web SDK and its OFREP web provider,
// which fetches every flag for a context at once (POST /ofrep/v1/evaluate/flags), keeps the
// ETag and re-polls with If-None-Match.
//
//   RAMP_URL=http://127.0.0.1:PORT RAMP_TOKEN=... node evaluate-bulk.js < cases.json
//
// stdin and the result lines are those of evaluate.js. The web SDK holds one context at a
// time, so the cases are grouped by context (in order of first appearance): for each group
// the script awaits OpenFeature.setContext (which resolves once the provider has re-fetched
// the flags for it), then evaluates that group's cases from the provider's cache.
// After the last group it waits RAMP_SETTLE_MS (1000) so that the provider polls (every
// RAMP_POLL_MS, 200) at least once more with If-None-Match, then prints a last line
// {"bulkRequests": N, "notModified": M}: the bulk POSTs the provider sent and how many were
// answered 304, counted by wrapping the global fetch.
// Exit 0 when every case ran; 2 when the input or the provider setup is wrong (a 401/403
// on the first bulk request is a setup failure).
const { fail, readEnv, readCases, canonical, resultLine } = require('./common');

const counts = { bulkRequests: 0, notModified: 0 };
const realFetch = globalThis.fetch;
if (typeof realFetch !== 'function') fail('this Node has no global fetch (Node 20 or newer is needed)');
// The provider binds globalThis.fetch when it is constructed, so this must come first.
globalThis.fetch = async (input, init) => {
  const req = input instanceof Request ? input : new Request(input, init);
  const bulk = req.method === 'POST' && new URL(req.url).pathname.endsWith('/ofrep/v1/evaluate/flags');
  if (bulk) counts.bulkRequests += 1;
  const res = await realFetch(input, init);
  if (bulk && res.status === 304) counts.notModified += 1;
  if (process.env.RAMP_DEBUG) {
    process.stderr.write(`${req.method} ${req.url} if-none-match=${req.headers.get('if-none-match') || '-'} -> ${res.status} etag=${res.headers.get('etag') || '-'}\n`);
  }
  return res;
};

const { OpenFeature, ProviderEvents } = require('@openfeature/web-sdk');
const { OFREPWebProvider } = require('@openfeature/ofrep-web-provider');

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function msFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) fail(`${name} must be a number of milliseconds`);
  return n;
}

async function main() {
  const { baseUrl, token } = readEnv();
  const pollInterval = msFromEnv('RAMP_POLL_MS', 200);
  const settleMs = msFromEnv('RAMP_SETTLE_MS', 1000);
  const cases = await readCases();

  // Group the cases by context, keeping the order in which contexts first appear.
  const groups = new Map();
  cases.forEach((c, index) => {
    const key = canonical(c.context);
    if (!groups.has(key)) groups.set(key, { context: c.context, indexes: [] });
    groups.get(key).indexes.push(index);
  });
  const ordered = [...groups.values()];

  const errors = [];
  OpenFeature.addHandler(ProviderEvents.Error, (e) => {
    errors.push(e && e.message);
    process.stderr.write(`provider error event: ${e && e.message}\n`);
  });

  // The first context is set before the provider, so its initialization fetches for it.
  if (ordered.length > 0) await OpenFeature.setContext(ordered[0].context);
  try {
    const provider = new OFREPWebProvider({
      baseUrl,
      headers: [['Authorization', `Bearer ${token}`]],
      cacheMode: 'disabled', // no localStorage under Node
      pollInterval,
    });
    await OpenFeature.setProviderAndWait(provider);
  } catch (e) {
    const cause = e && e.cause ? ` (${e.cause.name || ''}: ${e.cause.message || e.cause})` : '';
    fail(`could not set up the OFREP web provider: ${e && e.message ? e.message : e}${cause}`);
  }
  const client = OpenFeature.getClient();

  const lines = new Array(cases.length);
  for (let g = 0; g < ordered.length; g += 1) {
    const { context, indexes } = ordered[g];
    // Resolves after the provider's onContextChange, i.e. after its bulk re-fetch.
    if (g > 0) await OpenFeature.setContext(context);
    for (const i of indexes) {
      lines[i] = resultLine(cases[i].flag, client.getBooleanDetails(cases[i].flag, false));
    }
  }

  // Let the provider poll the last context again: the ETag it holds should get a 304.
  await sleep(settleMs);
  await OpenFeature.close();
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
  process.stdout.write(`${JSON.stringify(counts)}\n`);
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
