/**
 * `charter/veramo`: Charter as a Veramo agent plugin, and a CharterResolver
 * over a Veramo agent's DID resolution.
 */
export { CharterVeramoPlugin } from './plugin.js';
export { veramoResolver, routedResolver, type DidResolvingAgent, type VeramoResolverOptions } from './resolver.js';
export { charterVeramoSchema } from './schema.js';
export type {
  CharterCheckReputationArgs,
  CharterContext,
  CharterCreateAgentPresentationArgs,
  CharterDelegateMandateArgs,
  CharterIssueAgentIdentityArgs,
  CharterIssueGrantArgs,
  CharterIssueMandateArgs,
  CharterRevokeArgs,
  CharterScoreAgentArgs,
  CharterVerifyAgentArgs,
  CharterVerifyCredentialArgs,
  CharterVerifyGrantArgs,
  CharterVeramoOptions,
  DateInput,
  ICharterVeramo,
  SigningArgs,
} from './types.js';
