import autocannon from 'autocannon';

/**
 * The load generator of `npm run bench -- api`, run as a process of its own so it does not
 * share an event loop with the hub: autocannon POSTs batches of environment cases to
 * /v1/ingest/enforcement-case at a fixed concurrency for a fixed time and prints its result
 * as one JSON line. Every batch is new (case numbers count up), and one record in twenty is
 * malformed in a way only the normaliser can tell (a date that is no date, a credit code ten
 * characters long), so both fates are exercised.
 *
 * argv: <url> <key> <seconds> <connections> <records per batch> <run id>
 */
const [url, key, seconds, connections, perBatch, run] = process.argv.slice(2);
const USCCS = ['91620902MA5726159J', '91620982MB0014808F', '91620900224380416C'];
let next = 0;

function record(i: number): Record<string, unknown> {
  const bad = i % 20 === 7;
  const badUscc = i % 20 === 13;
  return {
    case_no: `${run}-${i}`,
    action_type: 'PENALTY',
    decision_no: `酒环罚〔2026〕${run}-${i}号`,
    party: { kind: 'ORGANISATION', name: '酒泉某化工有限公司', uscc: badUscc ? '9162090212' : USCCS[i % USCCS.length] },
    region_code: '620902',
    violation_type: '超标排放水污染物',
    violation_facts: "监测超标 <script>alert(1)</script>'; drop table core.enforcement_case; --",
    penalty_kinds: ['FINE'],
    fine_amount: String(10_000 + (i % 90) * 1000),
    occurred_on: bad ? '2026-13-45' : '2026-10-01',
    decided_on: '2026-11-01',
    status: 'DECIDED',
    transferred_to_police: false,
    updated_at: '2026-11-02T10:00:00+08:00',
  };
}

const instance = autocannon(
  {
    url: `${url}/v1/ingest/enforcement-case`,
    method: 'POST',
    connections: Number(connections),
    duration: Number(seconds),
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    requests: [
      {
        setupRequest: (req) => {
          const records = Array.from({ length: Number(perBatch) }, () => record(next++));
          return { ...req, body: JSON.stringify({ records }) };
        },
      },
    ],
  },
  (err, result) => {
    if (err) {
      process.stderr.write(`load failed: ${err.message}\n`);
      process.exit(1);
    }
    process.stdout.write(
      JSON.stringify({
        requests: result.requests.total,
        requestsPerSecond: result.requests.average,
        latencyP50: result.latency.p50,
        latencyP99: result.latency.p99,
        status2xx: result['2xx'],
        non2xx: result.non2xx,
        status4xx: result['4xx'],
        status5xx: result['5xx'],
        errors: result.errors,
        timeouts: result.timeouts,
        recordsSent: next,
        durationS: result.duration,
      }) + '\n',
    );
  },
);
instance.on('error', (err) => process.stderr.write(`autocannon: ${err.message}\n`));
