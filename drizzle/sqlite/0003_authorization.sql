CREATE TABLE `authorization_codes` (
	`code_hash` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`family_id` text NOT NULL,
	`grant` text NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE INDEX `authorization_codes_expires` ON `authorization_codes` (`expires_at`);--> statement-breakpoint
CREATE TABLE `authorization_requests` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`browser_hash` text NOT NULL,
	`client_id` text NOT NULL,
	`request` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `authorization_requests_expires` ON `authorization_requests` (`expires_at`);--> statement-breakpoint
CREATE TABLE `consent_grants` (
	`sub` text NOT NULL,
	`client_id` text NOT NULL,
	`scopes` text NOT NULL,
	`resources` text NOT NULL,
	`details_types` text NOT NULL,
	`granted_at` integer NOT NULL,
	PRIMARY KEY(`sub`, `client_id`)
);
--> statement-breakpoint
CREATE TABLE `family_passports` (
	`family_id` text NOT NULL,
	`jti` text NOT NULL,
	`expires_at` integer NOT NULL,
	PRIMARY KEY(`family_id`, `jti`)
);
--> statement-breakpoint
CREATE INDEX `family_passports_expires` ON `family_passports` (`expires_at`);--> statement-breakpoint
CREATE TABLE `pushed_requests` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`params` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pushed_requests_expires` ON `pushed_requests` (`expires_at`);--> statement-breakpoint
CREATE TABLE `refresh_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`family_id` text NOT NULL,
	`client_id` text NOT NULL,
	`grant` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`used_at` integer
);
--> statement-breakpoint
CREATE INDEX `refresh_tokens_family` ON `refresh_tokens` (`family_id`);--> statement-breakpoint
CREATE INDEX `refresh_tokens_expires` ON `refresh_tokens` (`expires_at`);--> statement-breakpoint
CREATE TABLE `token_families` (
	`id` text PRIMARY KEY NOT NULL,
	`client_id` text NOT NULL,
	`sub` text NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `token_families_sub_client` ON `token_families` (`sub`,`client_id`);--> statement-breakpoint
CREATE INDEX `token_families_expires` ON `token_families` (`expires_at`);--> statement-breakpoint
ALTER TABLE `sessions` ADD `sid` text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE `subjects` ADD `claims` text;