/**
 * GTIN check digits (EAN-13, EAN-8, UPC-A) and EAN-13 codes with a price or weight inside
 * (GS1 prefixes 20–29, "restricted circulation"). Pure.
 */

/** The GS1 check digit of the digits before it: weights 3,1,3,… from the right. */
export function gtinCheckDigit(body: string): number {
  if (!/^\d+$/.test(body)) throw new Error(`"${body}" is not digits`);
  let sum = 0;
  for (let i = 0; i < body.length; i++) sum += Number(body[body.length - 1 - i]) * (i % 2 === 0 ? 3 : 1);
  return (10 - (sum % 10)) % 10;
}

const valid = (code: string, length: number) =>
  code.length === length && /^\d+$/.test(code) && gtinCheckDigit(code.slice(0, -1)) === Number(code.at(-1));

export const isValidEan13 = (code: string) => valid(code, 13);
export const isValidEan8 = (code: string) => valid(code, 8);
export const isValidUpcA = (code: string) => valid(code, 12);

/** Which symbology a scanned code looks like, and whether its check digit holds; other codes (Code 128…) have none here. */
export function checkBarcode(code: string): { kind: 'ean13' | 'ean8' | 'upca' | 'other'; valid: boolean } {
  if (!/^\d+$/.test(code)) return { kind: 'other', valid: true };
  if (code.length === 13) return { kind: 'ean13', valid: isValidEan13(code) };
  if (code.length === 12) return { kind: 'upca', valid: isValidUpcA(code) };
  if (code.length === 8) return { kind: 'ean8', valid: isValidEan8(code) };
  return { kind: 'other', valid: true };
}

export interface EmbeddedCode {
  /** the two-digit prefix, 20–29: the store setting says which mean price and which weight */
  prefix: string;
  /** the item number the store gave the article */
  itemCode: string;
  /** the price in minor units, or the weight in grams, as the prefix means */
  value: number;
}

/**
 * Splits a valid EAN-13 with prefix 20–29 into item code and value: `PP IIIII VVVVV C` by
 * default (5-digit item, 5-digit value); `itemDigits` 4 or 6 shift the split. A price check digit
 * some layouts put inside the value is not verified here. Returns undefined for any other code.
 */
export function parseEmbeddedEan13(code: string, itemDigits: 4 | 5 | 6 = 5): EmbeddedCode | undefined {
  if (!isValidEan13(code) || code[0] !== '2') return undefined;
  return { prefix: code.slice(0, 2), itemCode: code.slice(2, 2 + itemDigits), value: Number(code.slice(2 + itemDigits, 12)) };
}
