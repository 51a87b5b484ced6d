/** Prices are integer cents. */
export function lineTotal(item) {
  return item.price;
}

export function total(items) {
  return items.reduce((sum, item) => sum + lineTotal(item), 0);
}
