CREATE TABLE `delegations` (
	`did` text PRIMARY KEY NOT NULL,
	`sub` text NOT NULL,
	`client_id` text NOT NULL,
	`resource` text,
	`origin` text NOT NULL,
	`root_jti` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`revoked_at` integer,
	`revoked_by` text,
	`budget_uses` integer,
	`budget_amount` integer,
	`budget_currency` text,
	`used_uses` integer DEFAULT 0 NOT NULL,
	`used_amount` integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
CREATE INDEX `delegations_sub` ON `delegations` (`sub`);--> statement-breakpoint
CREATE INDEX `delegations_client` ON `delegations` (`client_id`);--> statement-breakpoint
CREATE INDEX `delegations_expires` ON `delegations` (`expires_at`);--> statement-breakpoint
CREATE TABLE `passport_links` (
	`jti` text PRIMARY KEY NOT NULL,
	`parent_jti` text,
	`did` text,
	`client_id` text NOT NULL,
	`sub` text NOT NULL,
	`expires_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `passport_links_parent` ON `passport_links` (`parent_jti`);--> statement-breakpoint
CREATE INDEX `passport_links_did` ON `passport_links` (`did`);--> statement-breakpoint
CREATE INDEX `passport_links_expires` ON `passport_links` (`expires_at`);