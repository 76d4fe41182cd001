// The hosting benchmark's tables (Markdown, ready for the README) and the
// issue's targets, met or not, against Apache + mod_wsgi daemon per user.

const MIB = 2 ** 20;
const f = (x, digits = 1) => (x === null || x === undefined || Number.isNaN(x) ? '–' : x.toFixed(digits));
const mib = (bytes) => (bytes ? (bytes / MIB).toFixed(0) : '–');

export function formatReport(meta, mix, once) {
  const lines = [
    `## Shared hosting: ${meta.users} users × ${meta.scriptsPerUser} scripts (${meta.hotUsers} hot, Zipf s=${meta.zipf}; ${meta.idleUsers} idle, probed), ${meta.seconds} s per server after ${meta.warmup} s of warm-up`,
    '',
    `${meta.date}, ${meta.cpus} × ${meta.cpuModel}, load before ${meta.loadBefore}; idle timeout ${meta.idleTimeout} s on both sides; wrk -t${meta.threads} -c${meta.connections}; probes: ${meta.probeScripts.join(', ')} to idle users 1–${meta.probeSpread} s after their idle timeout; pypages ${meta.pypages}.`,
  ];
  if (mix.length) lines.push('', ...mixTable(mix));
  if (once.length) lines.push('', ...onceTable(meta, once));
  lines.push('', ...targets(mix, once), '', ...notes());
  return lines.join('\n');
}

function mixTable(mix) {
  const lines = [
    '| server | req/s | p50 ms | p99 ms | errors | cold p50 ms | cold p99 ms (n) | PSS peak MiB | PSS mean MiB | processes seen | groups reaped |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of mix) {
    if (r.failed) {
      lines.push(`| ${r.server} | failed: ${r.failed.replace(/\|/g, '/')} |||||||||`);
      continue;
    }
    const errors = r.errors + r.cold.errors;
    lines.push(
      `| ${r.server} | ${f(r.rps, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${errors} | ${f(r.cold.p50)} | ${f(r.cold.p99)} (${r.cold.n}) | ${mib(r.pss.peak)} | ${mib(r.pss.mean)} | ${r.pss.pidsSeen} | ${r.reaped ?? '–'} |`,
    );
  }
  return lines;
}

function onceTable(meta, once) {
  const lines = [
    `Many scripts, each requested once (${meta.onceUsers} users × ${meta.onceScripts} copies of hello.py, ${meta.onceConcurrency} at a time, default idle timeout and max-workers):`,
    '',
    '| server | scripts | total s | p50 ms | p99 ms | errors | PSS at the end MiB | PSS peak MiB | processes at the end |',
    '|---|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of once) {
    if (r.failed) lines.push(`| ${r.server} | failed: ${r.failed.replace(/\|/g, '/')} ||||||||`);
    else
      lines.push(
        `| ${r.server} | ${r.scripts} | ${f(r.seconds)} | ${f(r.p50)} | ${f(r.p99)} | ${r.errors} | ${mib(r.pss.last)} | ${mib(r.pss.peak)} | ${r.pss.maxProcesses} |`,
      );
  }
  return lines;
}

/** The targets, for each pypages setup measured. */
export function targets(mix, once) {
  const daemon = mix.find((r) => r.server === 'apache-daemon' && !r.failed);
  const out = ['Targets (issue 16):', ''];
  const verdict = (ok) => (ok === null ? 'not measured' : ok ? '**met**' : 'not met');
  for (const r of mix.filter((x) => x.server.startsWith('pypages') && !x.failed)) {
    const speed = daemon ? r.rps / daemon.rps : null;
    const memory = daemon ? r.pss.peak / daemon.pss.peak : null;
    out.push(
      `- ${r.server}: throughput ≥ 1.5× daemon per user: ${verdict(speed === null ? null : speed >= 1.5)} (${f(speed, 2)}×); ` +
        `PSS peak ≤ 0.5× daemon's: ${verdict(memory === null ? null : memory <= 0.5)} (${f(memory, 2)}×); ` +
        `cold first answer p99 ≤ 50 ms: ${verdict(r.cold.n ? r.cold.p99 <= 50 : null)} (${f(r.cold.p99)} ms, ${r.cold.n} probes); ` +
        `errors: ${r.errors + r.cold.errors}`,
    );
  }
  for (const r of once.filter((x) => x.server.startsWith('pypages') && !x.failed))
    out.push(
      `- ${r.server}: ${r.scripts} scripts under the default max-workers, tree under 1 GiB: ${verdict(r.errors === 0 && r.pss.peak < 1024 * MIB)} (PSS peak ${mib(r.pss.peak)} MiB, ${r.errors} errors)`,
    );
  return out;
}

function notes() {
  return [
    "req/s, p50, p99: wrk over the hot users' Zipf mix (all six scripts, uploads included). errors: non-2xx and socket errors of wrk, plus failed probes.",
    'cold: first requests of idle users (no request for the idle timeout plus 1 s to the probe spread), one at a time, during the load. Embedded Apache reaps nothing: its "cold" answers come from a live interpreter, unless the request lands in an Apache child that never loaded the script.',
    "groups reaped: idle stops during the run, from the servers' logs (pypages: groups; mod_wsgi: daemon processes).",
    'PSS: the whole process tree (each shared page divided among its sharers), sampled through the run. processes seen: distinct pids in the tree over the samples (starts, roughly).',
  ];
}
