export { api, createApiClient, unwrap, type ApiClient, type Schemas } from "./client";
export { ApiError, apiErrorFrom, errorMessage, isErrorEnvelope, networkError } from "./errors";
export { TokenStore } from "./session";
