CREATE TABLE "personal_access_tokens" (
	"id" text PRIMARY KEY NOT NULL,
	"token_hash" text NOT NULL,
	"sub" text NOT NULL,
	"name" text NOT NULL,
	"resource" text NOT NULL,
	"scopes" text NOT NULL,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	"last_used_at" bigint,
	"revoked_at" bigint,
	CONSTRAINT "personal_access_tokens_token_hash_unique" UNIQUE("token_hash")
);
--> statement-breakpoint
CREATE INDEX "personal_access_tokens_sub" ON "personal_access_tokens" USING btree ("sub");--> statement-breakpoint
CREATE INDEX "personal_access_tokens_expires" ON "personal_access_tokens" USING btree ("expires_at");--> statement-breakpoint
CREATE INDEX "audit_records_did" ON "audit_records" USING btree (("details"::jsonb ->> 'did'));