/**
 * `LiteLLM_JWTKeyMapping` (newer LiteLLM, litellm-schema.md §2): a JWT claim value that stands for
 * a virtual key. With `litellm_jwtauth.virtual_key_claim_field` set, a token whose claim matches an
 * active row is decided as that key (auth/jwt/key-mapping.ts).
 */
import { Entity, Index } from 'typeorm';
import { BooleanColumn, DateTimeColumn, IdColumn, StringColumn, TextColumn } from './columns';

@Entity({ name: 'LiteLLM_JWTKeyMapping' })
@Index('LiteLLM_JWTKeyMapping_jwt_claim_name_jwt_claim_value_key', ['jwt_claim_name', 'jwt_claim_value'], { unique: true })
@Index('LiteLLM_JWTKeyMapping_token_idx', ['token'])
export class JwtKeyMappingRecord {
  @IdColumn() id!: string;
  @StringColumn({ nullable: false }) jwt_claim_name!: string;
  @StringColumn({ nullable: false }) jwt_claim_value!: string;
  /** sha256 hex of the key (`LiteLLM_VerificationToken.token`). */
  @StringColumn({ nullable: false }) token!: string;
  @TextColumn() description!: string | null;
  @BooleanColumn({ default: true }) is_active!: boolean;
  @DateTimeColumn({ nullable: false, defaultNow: true }) created_at!: Date;
  @StringColumn() created_by!: string | null;
  @DateTimeColumn({ nullable: false, defaultNow: true }) updated_at!: Date;
  @StringColumn() updated_by!: string | null;
}
