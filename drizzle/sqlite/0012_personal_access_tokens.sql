CREATE TABLE `personal_access_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`token_hash` text NOT NULL,
	`sub` text NOT NULL,
	`name` text NOT NULL,
	`resource` text NOT NULL,
	`scopes` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `personal_access_tokens_token_hash_unique` ON `personal_access_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `personal_access_tokens_sub` ON `personal_access_tokens` (`sub`);--> statement-breakpoint
CREATE INDEX `personal_access_tokens_expires` ON `personal_access_tokens` (`expires_at`);--> statement-breakpoint
CREATE INDEX `audit_records_did` ON `audit_records` (json_extract("details", '$.did'));