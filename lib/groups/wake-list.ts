// The requests of a group waiting for something to change (a thread freed, a
// worker started or died), each until its deadline. Its own file: waiting
// with a deadline and being woken together is one job, apart from a group's
// choice of worker.

interface Waiter {
  resolve: (ok: boolean) => void;
}

export class WakeList {
  private waiting: Waiter[] = [];

  /** Resolves true when woken, false when `deadline` (ms since the epoch) passes first. */
  wait(deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const waiter: Waiter = { resolve };
      const timer = setTimeout(
        () => {
          this.waiting = this.waiting.filter((w) => w !== waiter);
          resolve(false);
        },
        Math.max(0, deadline - Date.now()),
      );
      waiter.resolve = (ok) => {
        clearTimeout(timer);
        resolve(ok);
      };
      this.waiting.push(waiter);
    });
  }

  /** Everyone waiting now looks again, in the order they came. */
  wake(): void {
    for (const w of this.waiting.splice(0)) w.resolve(true);
  }
}
