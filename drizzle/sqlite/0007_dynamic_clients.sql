CREATE TABLE `dynamic_clients` (
	`client_id` text PRIMARY KEY NOT NULL,
	`source` text NOT NULL,
	`client` text NOT NULL,
	`refresh_at` integer,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `dynamic_clients_source` ON `dynamic_clients` (`source`);