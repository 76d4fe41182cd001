// Things waiting their turn, by tenant: each tenant's own in the order they
// came, and the tenants in order of their last turn, the one served longest
// ago first (one never served before any that has been, in the order they
// came). Round robin by tenant, not first come first served over everything:
// a tenant with a hundred waiting does not push a tenant with one to the
// back, and a tenant that stops waiting for a moment (its next request is on
// its way) keeps its place in the round. Pure: lib/groups/slots.ts decides
// who may be served.

export class TurnQueue<T> {
  /** Tenant → its waiting, oldest first; the Map's order is that of arrival. */
  private readonly lines = new Map<string, T[]>();
  /** Tenant → when it was last served (a count of turns): the least first. Kept while it is away. */
  private readonly lastTurn = new Map<string, number>();
  private turns = 0;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** `item` of `tenant` waits behind its tenant's others. */
  push(tenant: string, item: T): void {
    const line = this.lines.get(tenant);
    if (line) line.push(item);
    else this.lines.set(tenant, [item]);
    this.count++;
  }

  /** Takes `item` out without it being a turn of its tenant (it gave up waiting). False if it was not there. */
  remove(tenant: string, item: T): boolean {
    const line = this.lines.get(tenant);
    const at = line ? line.indexOf(item) : -1;
    if (!line || at < 0) return false;
    line.splice(at, 1);
    if (line.length === 0) this.lines.delete(tenant);
    this.count--;
    return true;
  }

  /** Takes `item` out: it is served, and that was its tenant's turn. */
  serve(tenant: string, item: T): void {
    if (this.remove(tenant, item)) this.lastTurn.set(tenant, ++this.turns);
  }

  /** Everything waiting, in turn order: tenant by tenant, the one served longest ago first, each tenant's oldest first. */
  *inTurn(): IterableIterator<[tenant: string, item: T]> {
    const turn = (tenant: string) => this.lastTurn.get(tenant) ?? 0;
    const tenants = [...this.lines].sort(([a], [b]) => turn(a) - turn(b)); // stable: ties in order of arrival
    for (const [tenant, line] of tenants) for (const item of [...line]) yield [tenant, item];
  }

  /** The first waiting, in turn order, for which `ok` holds: the one to serve next among those that can be. */
  next(ok: (item: T, tenant: string) => boolean): [tenant: string, item: T] | null {
    for (const [tenant, item] of this.inTurn()) if (ok(item, tenant)) return [tenant, item];
    return null;
  }
}
