CREATE TABLE `pending_logins` (
	`state_hash` text PRIMARY KEY NOT NULL,
	`browser_hash` text NOT NULL,
	`upstream_id` text NOT NULL,
	`nonce` text NOT NULL,
	`code_verifier` text NOT NULL,
	`return_to` text NOT NULL,
	`acr_values` text,
	`max_age` integer,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `pending_logins_expires` ON `pending_logins` (`expires_at`);--> statement-breakpoint
CREATE TABLE `sessions` (
	`id_hash` text PRIMARY KEY NOT NULL,
	`sub` text NOT NULL,
	`upstream_id` text NOT NULL,
	`claims` text NOT NULL,
	`auth_time` integer NOT NULL,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `sessions_sub` ON `sessions` (`sub`);--> statement-breakpoint
CREATE INDEX `sessions_expires` ON `sessions` (`expires_at`);