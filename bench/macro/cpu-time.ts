/**
 * CPU time of processes and threads, from Linux's /proc (proc(5): `stat` fields 14 utime and 15
 * stime, in clock ticks): what each process of a run spends per request, so that a throughput ratio
 * can be taken apart. Linux only; elsewhere every reading is null and the figures are left out.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | null | undefined;

function clockTicks(): number | null {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || null;
    } catch {
      ticksPerSecond = null;
    }
  }
  return ticksPerSecond;
}

/** utime + stime of one /proc stat file, in ms; null when it cannot be read. */
function statCpuMs(path: string): number | null {
  const hz = clockTicks();
  if (hz === null) return null;
  try {
    // The command name (field 2) is in parentheses and may hold spaces: split after its last ')'.
    const text = readFileSync(path, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state), so utime (14) and stime (15) are fields[11] and fields[12].
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / hz;
  } catch {
    return null;
  }
}

/** CPU ms of these processes together (all their threads); a process that is gone counts 0. */
export function processesCpuMs(pids: readonly number[]): number | null {
  if (clockTicks() === null) return null;
  return pids.reduce((a, pid) => a + (statCpuMs(`/proc/${pid}/stat`) ?? 0), 0);
}

/**
 * CPU ms of these processes together from the scheduler's own count (`/proc/<pid>/task/<tid>/schedstat`,
 * first field: ns on a CPU; Documentation/scheduler/sched-stats.rst), summed over their threads: the
 * same time as `processesCpuMs` at ns instead of 10 ms resolution, for short measuring windows.
 * Null when it cannot be read (no schedstats); a thread that exited is no longer counted.
 */
export function processesCpuMsFine(pids: readonly number[]): number | null {
  let ns = 0;
  for (const task of taskDirs(pids)) {
    try {
      ns += Number(readFileSync(`${task}/schedstat`, 'utf8').split(' ')[0]);
    } catch {
      /* exited meanwhile */
    }
  }
  return Number.isFinite(ns) && pids.length > 0 ? ns / 1e6 : null;
}

/** CPU ms of the calling thread (a worker thread's own, not its process's). */
export function threadCpuMs(): number | null {
  return statCpuMs('/proc/thread-self/stat');
}

/** The pids of a process group (e.g. everything `wrangler dev` started, detached). */
export function processGroup(pgid: number): number[] {
  const out: number[] = [];
  try {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      try {
        const text = readFileSync(`/proc/${name}/stat`, 'utf8');
        // pgrp is field 5: fields[2] after the command name.
        if (Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]) === pgid) out.push(Number(name));
      } catch {
        /* exited meanwhile */
      }
    }
  } catch {
    return [];
  }
  return out;
}

/**
 * CPU ms of every thread of these processes, summed by thread name (`comm`: "workerd" is the
 * isolate's thread, "V8 DefaultWorke…" V8's background GC and compiler threads); empty off Linux.
 */
export function threadsCpuMs(pids: readonly number[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const task of taskDirs(pids)) {
    const path = `${task}/stat`;
    let name: string;
    try {
      const text = readFileSync(path, 'utf8');
      name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'));
    } catch {
      continue; // exited meanwhile
    }
    const ms = statCpuMs(path);
    if (ms !== null) out.set(name, (out.get(name) ?? 0) + ms);
  }
  return out;
}

/** `/proc/<pid>/task/<tid>` of every thread of these processes (a process that is gone has none). */
function taskDirs(pids: readonly number[]): string[] {
  const out: string[] = [];
  for (const pid of pids) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) out.push(`/proc/${pid}/task/${tid}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

/**
 * Scheduler time of threads, from Linux's /proc (`schedstat`: ns on a CPU, ns runnable but waiting
 * for one): finer than `stat`'s clock ticks, for what one request costs each process. The threads
 * of `pids` whose name (`comm`) is `name` — a process's main thread has the process's name — or all
 * of them; the list is taken once, when the reader is made; a thread that is gone then counts 0.
 */
export function schedReader(pids: readonly number[], name?: string): () => { runNs: number; waitNs: number } {
  const files: string[] = [];
  for (const pid of pids) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
        if (name === undefined || comm === name) files.push(`/proc/${pid}/task/${tid}/schedstat`);
      }
    } catch {
      /* exited meanwhile */
    }
  }
  return () => {
    let runNs = 0;
    let waitNs = 0;
    for (const f of files) {
      try {
        const [run, wait] = readFileSync(f, 'utf8').split(' ');
        runNs += Number(run);
        waitNs += Number(wait);
      } catch {
        /* exited meanwhile */
      }
    }
    return { runNs, waitNs };
  };
}
