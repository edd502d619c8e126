'use strict';
// Evaluates boolean flags one request at a time through the real OpenFeature server SDK and
// its OFREP provider (POST /ofrep/v1/evaluate/flags/{key}).
//
//   RAMP_URL=http://127.0.0.1:PORT RAMP_TOKEN=... node evaluate.js < cases.json
//
// stdin: [{"flag": "new-checkout", "context": {"targetingKey": "user-1", "plan": "pro"}}, ...]
// stdout: one line per case, in input order: {"flag", "value", "reason", "errorCode"}
//         (errorCode is null on success). RAMP_DEBUG=1 prints error messages on stderr.
// Exit 0 when every case ran; 2 when the input or the provider setup is wrong.
// This provider has no initialization request, so a wrong token only shows per case (errorCode
// GENERAL, as the SDK reports a 401); a warning on stderr then counts the 401/403 answers.
const rejected = { count: 0 };
const realFetch = globalThis.fetch;
// The provider binds globalThis.fetch when it is constructed, so this must come first.
globalThis.fetch = async (input, init) => {
  const res = await realFetch(input, init);
  if (res.status === 401 || res.status === 403) rejected.count += 1;
  return res;
};

const { OpenFeature } = require('@openfeature/server-sdk');
const { OFREPProvider } = require('@openfeature/ofrep-provider');
const { fail, readEnv, readCases, resultLine } = require('./common');

async function main() {
  const { baseUrl, token } = readEnv();
  const cases = await readCases();

  let provider;
  try {
    provider = new OFREPProvider({ baseUrl, headers: [['Authorization', `Bearer ${token}`]] });
    await OpenFeature.setProviderAndWait(provider);
  } catch (e) {
    fail(`could not set up the OFREP provider: ${e && e.message ? e.message : e}`);
  }
  const client = OpenFeature.getClient('ramp-e2e');

  const lines = [];
  for (const { flag, context } of cases) {
    const details = await client.getBooleanDetails(flag, false, context);
    lines.push(resultLine(flag, details));
  }
  await OpenFeature.close();
  if (rejected.count > 0) {
    process.stderr.write(`warning: the server answered 401/403 to ${rejected.count} request(s): check RAMP_TOKEN\n`);
  }
  process.stdout.write(lines.map((l) => `${l}\n`).join(''));
}

main().catch((e) => fail(e && e.stack ? e.stack : String(e)));
