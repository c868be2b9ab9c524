/**
 * The little XML the awsQuery protocol (STS) needs: escaped text elements and the ErrorResponse
 * envelope. Writing it by hand keeps the emulator free of an XML dependency.
 */
import type { AwsApiError } from './aws-error.js';

export const STS_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** `{a: 'x', b: {c: 'y'}}` → `<a>x</a><b><c>y</c></b>`; undefined members are left out. */
export function xmlElements(members: Record<string, unknown>): string {
  return Object.entries(members)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) =>
      typeof value === 'object' && value !== null
        ? `<${name}>${xmlElements(value as Record<string, unknown>)}</${name}>`
        : `<${name}>${escapeXml(String(value))}</${name}>`,
    )
    .join('');
}

export function queryResponse(action: string, result: Record<string, unknown>, requestId: string): string {
  return (
    `<${action}Response xmlns="${STS_NAMESPACE}">` +
    `<${action}Result>${xmlElements(result)}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata>` +
    `</${action}Response>`
  );
}

export function queryErrorResponse(err: AwsApiError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${STS_NAMESPACE}">` +
    `<Error><Type>${err.fault}</Type><Code>${escapeXml(err.code)}</Code><Message>${escapeXml(err.message)}</Message></Error>` +
    `<RequestId>${requestId}</RequestId>` +
    `</ErrorResponse>`
  );
}
