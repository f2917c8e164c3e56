/**
 * `LiteLLM_DeprecatedVerificationToken`: a rotated-out key hash that keeps working until
 * `revoke_at`, as the key whose row now carries `active_token_id` (litellm-schema.md §2.15).
 */
import { Entity, Index } from 'typeorm';
import { DateTimeColumn, IdColumn, StringColumn } from './columns';

@Entity({ name: 'LiteLLM_DeprecatedVerificationToken' })
@Index('LiteLLM_DeprecatedVerificationToken_token_key', ['token'], { unique: true })
@Index('LiteLLM_DeprecatedVerificationToken_token_revoke_at_idx', ['token', 'revoke_at'])
@Index('LiteLLM_DeprecatedVerificationToken_revoke_at_idx', ['revoke_at'])
export class DeprecatedVerificationTokenRecord {
  @IdColumn() id!: string;
  @StringColumn({ nullable: false }) token!: string;
  @StringColumn({ nullable: false }) active_token_id!: string;
  @DateTimeColumn({ nullable: false }) revoke_at!: Date;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
}
