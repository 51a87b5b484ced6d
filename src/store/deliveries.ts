import type { Queryable } from './db/interface.js';

/**
 * Records an inbound webhook delivery by its provider id. Returns false when the id was
 * already recorded: the caller acknowledges and does nothing more.
 */
export async function recordDelivery(db: Queryable, provider: string, deliveryId: string, event?: string): Promise<boolean> {
  const rows = await db.query('INSERT INTO webhook_deliveries (provider, delivery_id, event) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1', [
    provider,
    deliveryId,
    event ?? null,
  ]);
  return rows.length === 1;
}
