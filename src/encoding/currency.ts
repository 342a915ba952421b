import { shown } from '../errors.js';

/**
 * ISO 4217 alphabetic currency codes (the List One of current codes, with
 * the funds codes and the X-codes: XTS is for testing, XXX means "no
 * currency"). A money limit or request names one of these or is refused:
 * "usd", "US$" or "ABC" never silently become a currency.
 */
const CODES = new Set(
  'AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL'.split(
    ' ',
  ),
);

export function isCurrency(v: unknown): v is string {
  return typeof v === 'string' && CODES.has(v);
}

/**
 * ISO 4217 minor units (the number of digits after the decimal point of the
 * currency's smallest unit): 2 unless listed. Codes with no minor unit in
 * ISO 4217 ("N.A.": precious metals, SDR, the test and "no currency" codes)
 * keep Charter's full decimal scale (18 digits), so nothing is rounded away.
 */
const MINOR_0 = new Set('BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF'.split(' '));
const MINOR_3 = new Set('BHD IQD JOD KWD LYD OMR TND'.split(' '));
const MINOR_4 = new Set(['CLF', 'UYW']);
const MINOR_NA = new Set('XAG XAU XBA XBB XBC XBD XDR XPD XPT XSU XTS XUA XXX'.split(' '));

export function minorUnits(currency: string): number {
  if (!isCurrency(currency)) throw new TypeError(`not an ISO 4217 currency: ${shown(currency, 8)}`);
  if (MINOR_0.has(currency)) return 0;
  if (MINOR_3.has(currency)) return 3;
  if (MINOR_4.has(currency)) return 4;
  return MINOR_NA.has(currency) ? 18 : 2;
}
