// The browser loads /js/eventsource-parser.js, which the logs app serves from the
// eventsource-parser package (src/routes/web-page.ts); its types are the package's own.
export * from 'eventsource-parser';
