// The media type of a Content-Type header, lower-cased, without parameters
// (`application/json; charset=utf-8` → `application/json`); '' when absent.
// The one place a Content-Type is taken apart.

export const mediaType = (header: string | undefined): string => (header ?? '').split(';', 1)[0]!.trim().toLowerCase()
