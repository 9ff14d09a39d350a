CREATE TABLE `subjects` (
	`sub` text PRIMARY KEY NOT NULL,
	`email` text,
	`created_at` integer NOT NULL,
	`last_login_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `subjects_email` ON `subjects` (`email`);--> statement-breakpoint
CREATE TABLE `upstream_accounts` (
	`orig_iss` text NOT NULL,
	`orig_sub` text NOT NULL,
	`upstream_id` text NOT NULL,
	`sub` text NOT NULL,
	`email` text,
	`first_seen_at` integer NOT NULL,
	`last_login_at` integer NOT NULL,
	PRIMARY KEY(`orig_iss`, `orig_sub`),
	FOREIGN KEY (`sub`) REFERENCES `subjects`(`sub`) ON UPDATE no action ON DELETE no action
);
--> statement-breakpoint
CREATE INDEX `upstream_accounts_sub` ON `upstream_accounts` (`sub`);