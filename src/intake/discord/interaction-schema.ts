import { z } from 'zod';

/**
 * A Discord interaction as Discord documents it (discord.com/developers/docs/interactions/
 * receiving-and-responding#interaction-object), limited to the fields the handlers read.
 * Objects are loose so Discord's additions pass through; ids are snowflakes (decimal
 * strings of a 64-bit number). Strings arrive already normalised by parseJson.
 */
const Snowflake = z.string().regex(/^\d{1,20}$/);

export interface CommandOption {
  name: string;
  type: number;
  value?: string | number | boolean;
  options?: CommandOption[];
}

const CommandOption: z.ZodType<CommandOption> = z.lazy(() =>
  z.looseObject({
    name: z.string().min(1).max(100),
    type: z.number().int().min(1).max(11),
    value: z.union([z.string().max(6_000), z.number(), z.boolean()]).optional(),
    options: z.array(CommandOption).max(25).optional(),
  }),
);

const User = z.looseObject({ id: Snowflake });

const Common = {
  id: Snowflake,
  application_id: Snowflake,
  token: z.string().min(1).max(1_000),
  guild_id: Snowflake.optional(),
  member: z
    .looseObject({
      user: User,
      permissions: z
        .string()
        .regex(/^\d{1,40}$/)
        .optional(),
    })
    .optional(),
  user: User.optional(),
};

export const DiscordPing = z.looseObject({ type: z.literal(1), id: Snowflake, application_id: Snowflake });

export const DiscordApplicationCommand = z.looseObject({
  ...Common,
  type: z.literal(2),
  channel: z.looseObject({ id: Snowflake }),
  data: z.looseObject({ name: z.string().min(1).max(32), options: z.array(CommandOption).max(25).optional() }),
});

/** Message components, autocomplete and modal submits: Userz registers none, so it answers them generically. */
export const DiscordOtherInteraction = z.looseObject({ ...Common, type: z.union([z.literal(3), z.literal(4), z.literal(5)]) });

export const DiscordInteraction = z.discriminatedUnion('type', [DiscordPing, DiscordApplicationCommand, DiscordOtherInteraction]);
export type DiscordInteraction = z.infer<typeof DiscordInteraction>;
