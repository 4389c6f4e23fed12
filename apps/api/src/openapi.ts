// The document covers both apps, so it is built in http-kit; the api serves it as it is.
export { type OpenApiDocument, openApiDocument } from '@registry-triggers/http-kit';
