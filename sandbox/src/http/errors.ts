/** GitHub's documentation link in error bodies. */
export const DOCS_URL = "https://docs.github.com/rest";

/** One entry of a 422 `errors` array, as GitHub sends it. */
export interface ValidationErrorItem {
  /** GitHub names the resource for model errors; schema errors of a request body have none. */
  resource?: string;
  field?: string;
  code: "missing" | "missing_field" | "invalid" | "already_exists" | "unprocessable" | "custom";
  message?: string;
}

/**
 * An error answered with GitHub's body `{"message","documentation_url"[,"errors"]}` and its status.
 * Route handlers throw these; the server turns them into responses.
 */
export class HttpError extends Error {
  override readonly name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly options: {
      /** Objects (`validation-error`) or plain strings (`validation-error-simple`), as the operation documents. */
      errors?: ValidationErrorItem[] | string[];
      documentationUrl?: string;
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
  }

  body(): Record<string, unknown> {
    const body: Record<string, unknown> = { message: this.message };
    if (this.options.errors !== undefined) body.errors = this.options.errors;
    body.documentation_url = this.options.documentationUrl ?? DOCS_URL;
    body.status = String(this.status);
    return body;
  }
}

export const notFound = (): HttpError => new HttpError(404, "Not Found");
export const requiresAuth = (): HttpError => new HttpError(401, "Requires authentication");
export const badCredentials = (): HttpError => new HttpError(401, "Bad credentials");
export const forbidden = (message = "Resource not accessible by integration"): HttpError =>
  new HttpError(403, message);
/** GitHub's 422 "Validation Failed" with an errors array. */
export const validationFailed = (...errors: ValidationErrorItem[]): HttpError =>
  new HttpError(422, "Validation Failed", { errors });
/** GitHub's 422 for a body that does not match the endpoint's schema. */
export const invalidRequest = (detail: string): HttpError =>
  new HttpError(422, `Invalid request.\n\n${detail}`);
