// @ts-check
/** The shapes the API answers with, as the console reads them (docs/contract.md). */

/**
 * @typedef {'succeeded' | 'retrying' | 'failed' | 'untriggered' | 'superseded'} RecordStatus
 *
 * @typedef {object} AccessRecord
 * @property {string} id
 * @property {string} triggerId
 * @property {string} triggerName
 * @property {string} triggerUrl
 * @property {'ALL' | 'TAG_LIST' | 'TAG_REG_EXP'} triggerType
 * @property {string} triggerTag
 * @property {string} eventId
 * @property {string | null} deliveryId
 * @property {string} namespace
 * @property {string} repository
 * @property {string} tag
 * @property {string} digest
 * @property {RecordStatus} status
 * @property {string} statusCode
 * @property {number} attempt
 * @property {number} requestTime
 * @property {number} durationMs
 * @property {Record<string, string>} requestHeaders
 * @property {string} requestBody
 * @property {Record<string, string>} responseHeaders
 * @property {string} responseBody
 * @property {string} [note]
 * @property {'filter' | 'artifact-tag' | 'same-digest' | 'disabled' | 'trigger-deleted' | 'worker-lost' | 'cancelled' | 'superseded' | 'rate-limited' | 'ordered'} [reason] why nothing was sent, or what held the attempt back
 * @property {string} [supersededBy] superseded records: the event of the newer push that replaced it
 * @property {number | null} [nextAttemptAt] when a retrying delivery tries again (epoch ms), if the api says
 *
 * @typedef {object} Trigger
 * @property {string} id
 * @property {string} name
 * @property {string} url
 * @property {'ALL' | 'TAG_LIST' | 'TAG_REG_EXP'} type
 * @property {string[]} [tags]
 * @property {string} [expression]
 * @property {boolean} enabled
 * @property {string} [secret]
 * @property {Record<string, string>} [headers]
 * @property {boolean} [coalesce] latest push of a tag wins
 * @property {boolean} [ordered] deliveries one at a time, in push order
 * @property {{ perSecond: number, maxInFlight?: number }} [rateLimit]
 * @property {string} [disabledReason]
 *
 * @typedef {object} Token
 * @property {string} id
 * @property {string | null} name
 * @property {'admin' | 'read' | 'ingest'} scope
 * @property {number} createdAt
 * @property {number | null} expiresAt
 * @property {number | null} [lastUsedAt]
 * @property {string} [prefix]
 * @property {string} [token] the secret, in the answer that issues it only
 *
 * @typedef {object} Route where the console is: the deep link `?ns=&repo=&trigger=&record=`
 * @property {string | null} ns
 * @property {string | null} repo
 * @property {string | null} trigger
 * @property {string | null} record
 * @property {string | null} status
 */

export {};
