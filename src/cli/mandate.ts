import { CharterError } from '../errors.js';
import { Option, type Command } from 'commander';
import { parseInstant } from '../encoding/duration.js';
import { createResolver } from '../did/index.js';
import { verifyMandateChain, type MandateDecision, type MandateProfile, type TrustAnchor, type VerifyMandateOptions } from '../mandates/index.js';
import { readAp2Input, readViInput } from '../mandates/verify.js';
import { parseTrustAnchor } from '../mandates/trust.js';
import { tree, mark } from './format.js';
import { formatReasons, leaf, readTextArg, runCommand, type CliContext, type CommonOptions } from './io.js';
import { createTokenStatusChecker } from '../status/token-checker.js';
import { collect, refuseBlank } from './args.js';

/** `charter mandate verify`: Verifiable Intent and AP2 payment mandate chains. */
interface VerifyOpts extends CommonOptions {
  profile: MandateProfile;
  aud?: string;
  nonce?: string;
  paymentAud?: string;
  paymentNonce?: string;
  checkoutAud?: string;
  checkoutNonce?: string;
  checkoutHash?: string;
  openCheckoutHash?: string;
  now?: string;
  trustIssuer?: string[];
  trustMerchant?: string[];
  skipIssuerVerification?: boolean;
  allowMissingNonce?: boolean;
  requireStatus?: boolean;
  timeZone?: string;
  allowLoopback?: boolean;
}

/** `--allow-loopback` or CHARTER_ALLOW_LOOPBACK=1, as for every other verification. */
const loopback = (ctx: CliContext, o: VerifyOpts) => o.allowLoopback === true || ctx.env.CHARTER_ALLOW_LOOPBACK === '1';

async function anchors(ctx: CliContext, files: string[] | undefined, what: string): Promise<TrustAnchor[]> {
  return Promise.all((files ?? []).map(async (f) => parseTrustAnchor(await readTextArg(ctx, f, what))));
}

export async function collectMandateVerify(ctx: CliContext, file: string, o: VerifyOpts): Promise<MandateDecision> {
  refuseBlank(o, ['--aud', '--nonce', '--payment-aud', '--payment-nonce', '--checkout-aud', '--checkout-nonce', '--checkout-hash', '--open-checkout-hash']);
  // A flag only the other profile can carry out is a usage error (exit 2), not a check silently left undone.
  if (o.profile === 'ap2' && o.requireStatus)
    throw new CharterError('INVALID_ARGUMENT', '--require-status is for --profile verifiable-intent: AP2 defines no status, so no AP2 chain could meet it');
  if (o.profile === 'verifiable-intent' && o.openCheckoutHash !== undefined)
    throw new CharterError('INVALID_ARGUMENT', "--open-checkout-hash is AP2's payment.reference: a Verifiable Intent chain has none (--checkout-hash pins the checkout for both)");
  const text = await readTextArg(ctx, file, 'mandate');
  // Nothing to verify is a usage error (exit 2), as `vc verify -` on empty input is, not a refused chain.
  if (text.trim() === '') throw new CharterError('INVALID_ARGUMENT', `${file === '-' ? 'standard input' : file} holds no mandate chain`);
  // Strict, as --at elsewhere: Date.parse would roll 2027-02-30 over to March.
  const now = o.now === undefined ? undefined : parseInstant(o.now, '--now');
  const input = o.profile === 'verifiable-intent' ? readViInput(text) : readAp2Input(text);
  const issuers = await anchors(ctx, o.trustIssuer, 'trust issuer');
  const merchants = await anchors(ctx, o.trustMerchant, 'trust merchant');
  const needsResolver = [...issuers, ...merchants].some((a) => typeof a === 'string' && a.startsWith('did:'));
  const options: VerifyMandateOptions = {
    profile: o.profile,
    trust: {
      issuers,
      ...(merchants.length > 0 ? { merchants } : {}),
      ...(needsResolver ? { resolver: createResolver({ allowLoopback: loopback(ctx, o), allowHttp: loopback(ctx, o) }) } : {}),
    },
    ...(now ? { now } : {}),
    // A VI layer's status (the card credential's revocation), fetched as every verification fetches (no home needed).
    status: createTokenStatusChecker({
      resolver: createResolver({ allowLoopback: loopback(ctx, o), allowHttp: loopback(ctx, o) }),
      allowLoopback: loopback(ctx, o),
      allowHttp: loopback(ctx, o),
    }),
  };
  for (const k of ['aud', 'nonce', 'paymentAud', 'paymentNonce', 'checkoutAud', 'checkoutNonce', 'checkoutHash', 'openCheckoutHash'] as const) {
    if (o[k] !== undefined) options[k] = o[k];
  }
  if (o.skipIssuerVerification) options.skipIssuerVerification = true;
  if (o.allowMissingNonce) options.allowMissingNonce = true;
  if (o.requireStatus) options.requireStatus = true;
  if (o.timeZone) options.calendarTimeZone = o.timeZone;
  return verifyMandateChain(input, options);
}

export function renderMandateDecision(d: MandateDecision): string {
  const lines = [`${mark(d.ok)} ${d.profile} chain ${d.ok ? 'valid' : 'refused'}${d.mode ? ` (${d.mode})` : ''}`];
  if (!d.ok) lines.push(formatReasons(d.reasons));
  if (d.issuerVerification === 'skipped') lines.push('  ⚠ the root issuer was NOT verified (--skip-issuer-verification)');
  if (d.principal) lines.push(`  principal: ${d.principal.key}${d.principal.id ? ` (${d.principal.id}${d.principal.issuer ? ` from ${d.principal.issuer}` : ''})` : ''}`);
  if (d.agent) lines.push(`  agent:     ${d.agent.key}${d.agent.kid ? ` (kid ${d.agent.kid})` : ''}`);
  if (d.payment) {
    const payee = d.payment.payee ? ` to ${String(d.payment.payee.name ?? d.payment.payee.id ?? '')}` : '';
    lines.push(`  payment:   ${d.payment.amount.amount} ${d.payment.amount.currency}${payee}`);
  }
  if (d.checkout) lines.push(`  checkout:  ${d.checkout.hash} (merchant signature ${d.merchantSignature})`);
  lines.push(
    tree({
      label: 'layers',
      children: d.layers.map((l) => ({
        label: `${mark(l.checks.length === 0 && !d.reasons.some((r) => r.ref === l.name))} ${l.name}${l.typ ? ` [${l.typ}]` : ''}${l.aud ? ` aud ${l.aud}` : ''}`,
      })),
    }),
  );
  if (d.constraints.length > 0) {
    const sym = { satisfied: '✓', violated: '✗', reported: '•', skipped: '–' } as const;
    lines.push(
      tree({
        label: 'constraints',
        children: d.constraints.map((c) => ({ label: `${sym[c.status]} ${c.type} (${c.enforcedBy === 'network' ? 'network-enforced, reported' : c.status}) in ${c.ref}` })),
      }),
    );
  }
  if (d.links.length > 0) {
    const money = (m?: { amount: string; currency: string }) => (m ? `${m.amount} ${m.currency}` : undefined);
    // An AP2 root pinned by a DID is also charged under the method id 0.1 keyed it by (MandateRecord.anchor,
    // mandates/ledger.ts): the same links, ids and limits under a second issuer. Listed once, saying so, not
    // as two links of one id that a reader would take for two limits.
    const anchored = new Map(d.mandates.flatMap((m) => (m.anchor !== undefined && m.anchor !== m.issuer ? [[m.id, m] as const] : [])));
    const base = (id: string) => id.replace(/#[^#]*$/, '');
    const copy = (l: (typeof d.links)[number]) => anchored.get(base(l.id))?.anchor === l.issuer;
    lines.push(
      tree({
        label: 'ledger links',
        children: d.links
          .filter((l) => !copy(l))
          .map((l) => {
            const anchor = anchored.get(base(l.id));
            const also = anchor !== undefined && anchor.issuer === l.issuer ? `; counted under ${anchor.anchor} too (0.1's key for it)` : '';
            const lim = l.authority.limits;
            const b = lim.budget;
            const periodOf = (p: string | { calendar: string; timeZone: string }) => (typeof p === 'string' ? p : `${p.calendar} (${p.timeZone})`);
            const period = b ? (typeof b.period === 'string' ? b.period : `per ${periodOf(b.period)}`) : '';
            const parts = [
              money(lim.perTransaction) && `max ${money(lim.perTransaction)} each`,
              b && `budget ${money(b)} ${period}`,
              lim.rate && `${lim.rate.count} per ${periodOf(lim.rate.period as string | { calendar: string; timeZone: string })}`,
              lim.counterparties && `to ${lim.counterparties.join(', ')}`,
            ].filter(Boolean);
            return { label: `${l.id}: ${parts.join('; ') || 'no money limits'}${also}` };
          }),
      }),
    );
  }
  return lines.join('\n');
}

export function registerMandate(program: Command, ctx: CliContext): void {
  const mandate = program.command('mandate').description('external agent payment mandates: Mastercard/Google Verifiable Intent, Google AP2');
  leaf(
    mandate
      .command('verify')
      .description('verify a mandate chain statelessly and map its money limits to ledger links (exit 0 valid, 1 refused, 2 usage)')
      .argument(
        '<file|->',
        'VI: JSON { l1, l2, l3_payment?, l3_checkout?, l2_payment_serialized?, l2_checkout_serialized? }; AP2: a "~~"-joined chain or JSON { payment?, checkout?, checkout_object? }',
      )
      .addOption(new Option('--profile <profile>', 'mandate protocol').choices(['verifiable-intent', 'ap2']).makeOptionMandatory())
      .option('--aud <aud>', 'VI: expected L2 aud; AP2: expected aud of the single chain')
      .option('--nonce <nonce>', 'VI: expected L2 nonce; AP2: expected nonce of the single chain')
      .option('--payment-aud <aud>', 'VI: expected L3a aud; AP2: of the payment chain')
      .option('--payment-nonce <nonce>', 'VI: expected L3a nonce; AP2: of the payment chain')
      .option('--checkout-aud <aud>', 'VI: expected L3b aud; AP2: of the checkout chain')
      .option('--checkout-nonce <nonce>', 'VI: expected L3b nonce; AP2: of the checkout chain')
      .option(
        '--checkout-hash <hash>',
        "hash of the checkout JWT being paid for, which the payment's transaction_id must name (AP2: needed for a payment chain sent without its checkout chain)",
      )
      .option('--open-checkout-hash <hash>', 'AP2 only, payment chain alone: hash of the open checkout mandate (payment.reference)')
      .option('--now <iso>', 'verification time (RFC 3339), default now')
      .option('--trust-issuer <file>', 'pinned root of trust: a public JWK, a JWKS, a DID, or (AP2) a PEM certificate or public key; repeatable', collect)
      .option('--trust-merchant <file>', 'pinned merchant key for checkout signatures (same forms); repeatable', collect)
      .option('--skip-issuer-verification', 'accept a root whose signature is not checked (tests only; reported)')
      .option('--allow-missing-nonce', 'accept a closing layer (AP2 closed mandate, VI L3a or L2) without checking its aud and nonce')
      .option('--require-status', 'VI only: refuse a card credential (L1) with no status in clear (a status it names is always checked)')
      .option('--time-zone <tz>', 'time zone of calendar budgets (IANA name), default UTC'),
    [
      'charter mandate verify chain.json --profile verifiable-intent --trust-issuer issuer.jwk --aud https://agent.example.com --nonce n-1',
      'charter mandate verify chain.json --profile verifiable-intent --trust-issuer issuer.jwk --payment-aud https://network.example --payment-nonce n-2 --json',
      'charter mandate verify payment.chain --profile ap2 --trust-issuer provider.pem --aud psp --nonce n-3 --checkout-hash 86jeB8fq... --open-checkout-hash rhURWZMY...',
      'charter mandate verify ap2.json --profile ap2 --trust-issuer provider.jwk --trust-merchant merchant.jwk --payment-aud psp --payment-nonce n-4 --checkout-aud shop --checkout-nonce n-5',
    ],
  ).action((file: string, opts: VerifyOpts) => runCommand(ctx, opts, () => collectMandateVerify(ctx, file, opts), renderMandateDecision));
}
