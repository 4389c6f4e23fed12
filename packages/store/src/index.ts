export * from './connection.js';
export * from './keys.js';
export * from './queues.js';
export * from './records.js';
export * from './repositories.js';
export * from './scripts.js';
export * from './tokens.js';
export * from './triggers.js';
