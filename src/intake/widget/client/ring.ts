/** The last `capacity` items, oldest first; with a storage, kept across page loads of the tab. */
export class Ring<T> {
  items: T[] = [];
  constructor(
    private readonly capacity: number,
    private readonly storage: Storage | null = null,
    private readonly key = '',
  ) {
    try {
      const saved = JSON.parse(storage?.getItem(key) ?? '[]') as T[];
      if (Array.isArray(saved)) this.items = saved.slice(-capacity);
    } catch {
      /* unreadable: start empty */
    }
  }

  push(item: T): void {
    this.items.push(item);
    if (this.items.length > this.capacity) this.items.splice(0, this.items.length - this.capacity);
    try {
      this.storage?.setItem(this.key, JSON.stringify(this.items));
    } catch {
      /* storage full or blocked: the memory copy still works */
    }
  }
}
