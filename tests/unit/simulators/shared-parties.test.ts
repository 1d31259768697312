import { AgencySimulator } from '../../../connectors/simulators/agency-records';
import { PenaltyCatalogue } from '../../../connectors/simulators/enforcement-api';
import { TicketCatalogue } from '../../../connectors/simulators/hotline-api';
import { procuratorateRows } from '../../../connectors/simulators/procuratorate-db';

/** Credit codes each simulator writes for its first records, started with the given seed. */
function codes(seed: number): { penalty: Set<string>; ticket: Set<string>; supervision: Set<string> } {
  const penalties = new PenaltyCatalogue(seed);
  const tickets = new TicketCatalogue(seed);
  const start = Date.UTC(2025, 0, 2) / 1000;
  const penalty = new Set(Array.from({ length: 1000 }, (_, r) => penalties.item(r, 0, start).统一社会信用代码 as string).filter(Boolean));
  const ticket = new Set(Array.from({ length: 1000 }, (_, r) => tickets.item(r, 3, [start, start + 60, start + 120, start + 180]).被反映对象信用代码 as string).filter(Boolean));
  const rows = procuratorateRows({ seed, count: 1000, firstId: 1, after: Date.UTC(2025, 11, 1), year: 2025 });
  const supervision = new Set([...rows].map((r) => r.当事人信用代码).filter((c): c is string => c !== null));
  return { penalty, ticket, supervision };
}

const inAll = (c: ReturnType<typeof codes>) => [...c.penalty].filter((code) => c.ticket.has(code) && c.supervision.has(code));

describe('simulated agencies of one city', () => {
  it('meet the same companies when started with one seed: the penalty API, the 12345 feed and the procuratorate table', () => {
    const city = codes(7);
    const pool = new Set(new AgencySimulator({ seed: 7, count: 0 }).companies.map((c) => c.uscc));
    for (const code of [...city.penalty, ...city.ticket, ...city.supervision]) expect(pool).toContain(code);
    // Dozens of companies turn up in all three, so a party_360 across the sources has plenty to show.
    expect(inAll(city).length).toBeGreaterThan(30);
  });

  it('spread their records over a larger register when the city is given more companies', () => {
    const penaltyCodes = (sim: AgencySimulator) =>
      new Set([...sim.records()].filter((r) => r.dataset === 'enforcement-case').map((r) => JSON.parse(r.payload).统一社会信用代码 as string | undefined).filter(Boolean));
    const small = new AgencySimulator({ seed: 7, count: 3000 });
    const large = new AgencySimulator({ seed: 7, count: 3000, companies: 3000 });
    expect(small.companies).toHaveLength(120);
    expect(large.companies).toHaveLength(3000);
    // The register is drawn first, so the default city's companies are the first of the larger one's.
    expect(large.companies.slice(0, 120)).toEqual(small.companies);
    expect(penaltyCodes(large).size).toBeGreaterThan(3 * penaltyCodes(small).size);
  });

  it('share no company across different seeds: another seed is another city', () => {
    const a = codes(7);
    const b = codes(8);
    expect([...a.penalty].filter((code) => b.penalty.has(code) || b.ticket.has(code) || b.supervision.has(code))).toEqual([]);
  });
});
