/**
 * The one place the ACR request body of a push is built. The evaluation builds it once per
 * event for all its deliveries; a delivery that comes without one (a test push, the
 * redelivery of an event never delivered) has it built here by the same function.
 */
import { buildAcrPayload } from '@registry-triggers/core';
import {
  DEFAULT_REPOSITORY_METADATA,
  type DeliveryJob,
  type Repository,
  type RepositoryStore,
} from '@registry-triggers/store';

export interface PayloadSettings {
  region: string;
  timeZone: string;
}

export function deliveryBody(
  push: { digest: string; pushedAt: number; tag: string },
  repository: Repository,
  settings: PayloadSettings,
): string {
  return buildAcrPayload(
    { digest: push.digest, pushedAt: push.pushedAt, tag: push.tag },
    { ...repository, region: settings.region },
    settings.timeZone,
  );
}

/**
 * The body of a delivery job without one. The repository may be gone meanwhile (a test push
 * to a trigger of a deleted repository): then it is described as the api would create it.
 */
export async function bodyForJob(
  data: DeliveryJob,
  repositories: RepositoryStore,
  settings: PayloadSettings,
): Promise<string> {
  const repository = (await repositories.get(data.namespace, data.repository)) ?? {
    namespace: data.namespace,
    name: data.repository,
    ...DEFAULT_REPOSITORY_METADATA,
    createdAt: data.pushedAt,
    updatedAt: data.pushedAt,
  };
  return deliveryBody(data, repository, settings);
}
