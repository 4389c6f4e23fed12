/**
 * coalesce: latest wins per trigger and tag. An older delivery of the tag that comes up while a
 * newer one is registered is superseded (not sent again); the newest waits while an older one
 * is in flight (a lease that expires, so a killed worker does not hold the tag forever).
 */
import type { CoalesceAdmission, DeliveryGateStore, GateDelivery } from '@registry-triggers/store';

export async function admitCoalesce(
  store: DeliveryGateStore,
  delivery: GateDelivery,
  leaseMs: number,
): Promise<CoalesceAdmission> {
  return store.admitCoalesce(delivery, leaseMs);
}
