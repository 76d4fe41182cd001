// A 20-second soak (test/soak/soak.mjs; `npm run soak` runs 10 minutes), so
// the script keeps working: mixed traffic, the server lives, every valid
// request is answered correctly, and every process is sampled.
import { expect, it } from 'vitest';
import { runSoak } from './soak.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 20);

it(
  `survives ${SECONDS} s of mixed traffic with aborts and malformed requests`,
  async () => {
    const report = await runSoak({ seconds: SECONDS, concurrency: 8, sampleEveryMs: 2000 });
    expect(report.deaths).toBe(0);
    expect(report.errors).toEqual([]);
    expect(report.orphans).toEqual([]);
    expect(report.leftInFlight).toBe(0);
    expect(report.requests).toBeGreaterThan(100);
    const labels = report.rows.map((r: { label: string }) => r.label);
    expect(labels).toContain('node server');
    expect(labels.some((l: string) => l.startsWith('worker '))).toBe(true);
    expect(report.rows.every((r: { samples: number }) => r.samples >= 1)).toBe(true);
    expect(report.problems).toEqual([]);
  },
  (SECONDS + 90) * 1000,
);
