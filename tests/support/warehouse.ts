/**
 * Makes a canonical record's cross-references unique to a test run. The simulators number
 * decisions and tickets the same way in every run, so without this a run's records would link
 * to every earlier run's in a warehouse that keeps its data between test runs.
 */
export function scopeToRun(record: Record<string, any>, run: string): Record<string, any> {
  const scoped = { ...record };
  if (typeof scoped.decision_no === 'string') scoped.decision_no = `${run}:${scoped.decision_no}`;
  for (const field of ['related_decision_nos', 'related_case_ids', 'related_ticket_ids']) {
    if (Array.isArray(scoped[field])) scoped[field] = scoped[field].map((v: string) => `${run}:${v}`);
  }
  return scoped;
}
