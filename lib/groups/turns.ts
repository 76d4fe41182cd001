// Things waiting their turn, by tenant: each tenant's own in the order they
// came, the tenants in a ring. Whoever is served sends its tenant to the back
// of the ring, so the next one served is another tenant's whenever another
// tenant waits: round robin by tenant, not first come first served over
// everything (a tenant with a hundred waiting does not push a tenant with
// one to the back). Pure: lib/groups/slots.ts decides who may be served.

export class TurnQueue<T> {
  /** Tenant → its waiting, oldest first; the Map's order is the ring's (the front's turn first). */
  private readonly lines = new Map<string, T[]>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** `item` of `tenant` waits behind its tenant's others; a tenant new to the ring goes to its back. */
  push(tenant: string, item: T): void {
    const line = this.lines.get(tenant);
    if (line) line.push(item);
    else this.lines.set(tenant, [item]);
    this.count++;
  }

  /** Takes `item` out without its tenant losing its place (it gave up waiting). False if it was not there. */
  remove(tenant: string, item: T): boolean {
    const line = this.lines.get(tenant);
    const at = line ? line.indexOf(item) : -1;
    if (!line || at < 0) return false;
    line.splice(at, 1);
    if (line.length === 0) this.lines.delete(tenant);
    this.count--;
    return true;
  }

  /** Takes `item` out: it is served, and its tenant, if it has more waiting, goes to the back of the ring. */
  serve(tenant: string, item: T): void {
    if (!this.remove(tenant, item)) return;
    const line = this.lines.get(tenant);
    if (!line) return;
    this.lines.delete(tenant);
    this.lines.set(tenant, line);
  }

  /** Everything waiting, in turn order: tenant by tenant round the ring, each tenant's oldest first. */
  *inTurn(): IterableIterator<[tenant: string, item: T]> {
    for (const [tenant, line] of [...this.lines]) for (const item of [...line]) yield [tenant, item];
  }

  /** The first waiting, in turn order, for which `ok` holds: the one to serve next among those that can be. */
  next(ok: (item: T, tenant: string) => boolean): [tenant: string, item: T] | null {
    for (const [tenant, item] of this.inTurn()) if (ok(item, tenant)) return [tenant, item];
    return null;
  }
}
