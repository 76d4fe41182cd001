// Preloaded into pypages by `bench/profile.mjs --alloc` (node --require): samples
// every allocation, including objects a scavenge already freed, which is what
// costs GC time on a request path (`node --heap-prof` keeps only survivors).
// The first SIGUSR2 starts sampling, the second writes
// $PYPAGES_BENCH_ALLOC/node-PID.heapprofile and stops (the supervisor, preloaded
// too, gets the signal first and writes its own).
'use strict';
const inspector = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new inspector.Session();
session.connect();
let sampling = false;
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.startSampling', {
      samplingInterval: 512,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    return;
  }
  session.post('HeapProfiler.stopSampling', (err, result) => {
    sampling = false;
    const file = join(process.env.PYPAGES_BENCH_ALLOC, `node-${process.pid}.heapprofile`);
    writeFileSync(file, JSON.stringify(err ? { error: String(err) } : result.profile));
  });
});
