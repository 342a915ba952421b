/**
 * The plugin's Veramo schema (JSON Schema, as `veramo dev
 * generate-plugin-schema` writes it): checked on every call when the agent is
 * created with `schemaValidation: true`, and what a Veramo remote server
 * publishes. Arguments are closed (`additionalProperties: false`) so a
 * misspelt option is refused rather than silently ignored; the contents of
 * authorities, limits and decisions are checked by Charter itself.
 */
const str = { type: 'string' };
const strs = { type: 'array', items: str };
const num = { type: 'number' };
const bool = { type: 'boolean' };
const obj = { type: 'object' };
/** An ISO 8601 string, or a Date in-process. */
const date = { type: ['string', 'object'] };
const money = { type: ['string', 'object'] };

const args = (required: string[], properties: Record<string, unknown>) => ({ type: 'object', required, properties, additionalProperties: false });
const method = (description: string, argumentsSchema: unknown, returnType: unknown = obj) => ({ description, arguments: argumentsSchema, returnType });

const signing = { issuer: str, keyRef: str };
const scoring = {
  agent: str,
  attestations: strs,
  operator: str,
  trustedAttesters: strs,
  trustedIdentityIssuers: strs,
  attesterCredentials: strs,
  unknownAttesterWeight: num,
  halfLifeSeconds: num,
};
const presented = { aud: str, nonce: str, allowMissingNonce: bool };

export const charterVeramoSchema = {
  components: {
    schemas: {},
    methods: {
      charterVerifyCredential: method(
        'Verifies a credential JWT (vc+jwt or VCDM 1.1) with Charter',
        args(['credential'], { credential: str, requireType: str, acceptV1: bool, aud: str }),
      ),
      charterVerifyGrant: method(
        'Decides whether a DataAccessGrant allows an action on a resource',
        args(['grant', 'resource', 'action'], {
          grant: str,
          resource: str,
          action: str,
          owner: str,
          anyOwner: bool,
          grantee: str,
          ...presented,
          purpose: str,
          processing: { type: 'string', enum: ['on-device', 'trusted-execution'] },
        }),
      ),
      charterVerifyAgent: method(
        'Know Your Agent: decides whether the agent that signed the presentation may act (a pure decision: nothing is reserved)',
        args(['presentation', 'action'], { presentation: str, action: str, amount: money, counterparty: str, ...presented, trust: obj }),
      ),
      charterAuthorizeTransaction: method(
        "Charter's guard pipeline for a transaction: verify, use the presentation up, reserve the spend (settle it with charterCommitSpend or charterReleaseSpend)",
        args(['presentation', 'action'], { presentation: str, action: str, amount: money, counterparty: str, trust: obj }),
      ),
      charterScoreAgent: method('Scores an agent from reputation attestations', args(['agent', 'attestations'], scoring)),
      charterCheckReputation: method(
        'Checks an agent reputation against a threshold',
        args(['agent', 'attestations', 'minReputation'], { ...scoring, minReputation: num, minAttesters: num }),
      ),
      charterIssueGrant: method(
        'Issues a revocable DataAccessGrant signed by a key of this agent',
        args(['issuer', 'grantee', 'resources', 'actions', 'purpose', 'validUntil'], {
          ...signing,
          grantee: str,
          resources: strs,
          actions: strs,
          purpose: str,
          validUntil: date,
          validFrom: date,
          constraints: obj,
          terms: obj,
        }),
      ),
      charterIssueMandate: method(
        'Issues a root AgentAuthorityCredential (mandate) signed by a key of this agent',
        args(['issuer', 'agent', 'authority', 'validUntil'], { ...signing, agent: str, authority: obj, validUntil: date }),
      ),
      charterDelegateMandate: method(
        'Delegates part of a mandate this agent holds to a sub-agent',
        args(['issuer', 'parent', 'to', 'authority', 'validUntil'], { ...signing, parent: str, to: str, authority: obj, validUntil: date }),
      ),
      charterIssueAgentIdentity: method(
        'Issues an AgentIdentityCredential: this agent, as operator, answers for the agent',
        args(['issuer', 'agent', 'name'], { ...signing, agent: str, name: str, software: obj, model: str, homepage: str, validUntil: date }),
      ),
      charterCreateAgentPresentation: method(
        "Signs an agent's presentation of its identity and mandate chain",
        args(['agent', 'chain', 'aud', 'nonce'], { agent: str, keyRef: str, identity: str, chain: strs, aud: str, nonce: str, expiresInSeconds: num }),
        str,
      ),
      charterRevokeGrant: method('Revokes a grant issued from the plugin store', args(['id'], { id: str }), bool),
      charterRevokeMandate: method('Revokes a mandate issued from the plugin store', args(['id'], { id: str }), bool),
      charterCommitSpend: method('Turns the spend reserved by charterAuthorizeTransaction into a spend', args(['reservationId'], { reservationId: str }), bool),
      charterReleaseSpend: method(
        'Gives back the spend reserved by charterAuthorizeTransaction (the transaction did not happen)',
        args(['reservationId'], { reservationId: str }),
        bool,
      ),
    },
  },
};
