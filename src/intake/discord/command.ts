import { ApplicationCommandOptionType, type RESTPostAPIChatInputApplicationCommandsJSONBody } from 'discord-api-types/v10';

/** `/userz report text:<…>` and `/userz link code:<…>`, registered by scripts/register-discord-command.ts. */
export const USERZ_COMMAND: RESTPostAPIChatInputApplicationCommandsJSONBody = {
  name: 'userz',
  description: 'Report a problem with this product',
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: 'report',
      description: 'Describe what went wrong',
      options: [{ type: ApplicationCommandOptionType.String, name: 'text', description: 'What went wrong?', required: true, max_length: 4000 }],
    },
    {
      // Checked on our side (Manage Server): Discord's default_member_permissions would hide the whole command.
      type: ApplicationCommandOptionType.Subcommand,
      name: 'link',
      description: 'Link this server to a product with a one-time code (needs Manage Server)',
      options: [
        { type: ApplicationCommandOptionType.String, name: 'code', description: 'The link code from the product’s admin', required: true, max_length: 64 },
      ],
    },
  ],
};
