// The public API's shapes the field app uses (see /api/v1/openapi.json).

export interface ChoiceOption {
  value: string;
  label_ar: string;
  label_en: string;
  fails: boolean;
}

export interface ChecklistItem {
  id: number;
  code: string;
  position: number;
  text_ar: string;
  text_en: string;
  answer_type: "yes_no_na" | "number" | "choice";
  choices: string[];
  failing_choices: string[];
  choice_options?: ChoiceOption[];
  min_value: number | null;
  max_value: number | null;
  unit: string;
  severity: "minor" | "major" | "critical";
  fine_sar: string | number;
  photo_required_on_fail: boolean;
  required: boolean;
  categories: string[];
}

export interface ChecklistVersion {
  id: number;
  checklist_id: number;
  checklist_code: string;
  number: number;
  status: string;
  items: ChecklistItem[];
}

export interface EstablishmentBrief {
  id: number;
  name_ar: string;
  name_en: string;
  category: string;
  licence_no: string;
  address: string;
  lat: number;
  lon: number;
}

export interface Establishment extends EstablishmentBrief {
  category_name_ar: string;
  category_name_en: string;
  municipality_id: number;
  status: string;
  risk_score: number;
  distance_m: number | null;
}

export interface Stop {
  id: number;
  position: number;
  status: "pending" | "visited" | "missed" | "cancelled";
  is_follow_up: boolean;
  updated_at: string;
  establishment: EstablishmentBrief;
}

export interface Round {
  id: number;
  date: string;
  municipality_id: number;
  inspector_id: number;
  checklist_id: number;
  checklist_version_id: number | null;
  status: string;
  notes: string;
  stop_count: number;
  visited_count: number;
  updated_at: string;
  cancelled_at: string | null;
  stops: Stop[];
}

export interface MeRounds {
  cursor: string;
  server_time: string;
  full: boolean;
  rounds: Round[];
  removed_round_ids: number[];
}

export interface Finding {
  id: number;
  visit_id: number;
  establishment_id: number;
  item_code: string;
  severity: string;
  fine_sar: string;
  due_date: string;
  status: string;
  overdue: boolean;
  opened_at: string;
}

export interface VisitListItem {
  id: number;
  establishment_id: number;
  finished_at: string;
  outcome: string;
  effective_outcome: string;
  violation_count: number;
}

export interface Page<T> {
  items: T[];
  count: number;
}

export interface Fix {
  lat: number;
  lon: number;
  accuracy_m: number;
  at: string;
}

export type Outcome = "compliant" | "violations" | "closed" | "refused_entry";

export interface AnswerPayload {
  item_code: string;
  value: string | number;
  note?: string;
}

export interface VisitPayload {
  client_id: string;
  establishment_id: number;
  round_stop_id: number | null;
  checklist_version_id: number;
  started_at: string;
  finished_at: string;
  location: { lat: number; lon: number; accuracy_m: number } | null;
  outcome: Outcome;
  answers: AnswerPayload[];
  notes: string;
}

export interface SyncError {
  loc: string[];
  msg: string;
  type: string;
}

export interface SyncResult {
  client_id: string | null;
  status: "created" | "duplicate" | "rejected";
  visit_id: number | null;
  errors: SyncError[];
}

/** POST enforcement/visits/{id}/acknowledgement */
export interface AcknowledgementPayload {
  client_id: string;
  kind: "signed" | "refused";
  signer_name: string;
  signature_png_base64: string | null;
  captured_at: string;
}

export interface AcknowledgementResult {
  id: number;
  client_id: string;
  visit_id: number;
  kind: string;
  signer_name: string;
  signature_sha256: string;
}

export interface Notification {
  id: number;
  kind: string;
  title: string;
  body: string;
  created_at: string;
  read_at: string | null;
}

export interface ClientConfig {
  map_tile_url: string;
  map_tile_attribution: string;
  geo_verified_max_distance_m: number;
  geo_low_accuracy_m: number;
  visit_sync_max_batch: number;
  photo_max_bytes: number;
  web_push: { firebase: Record<string, string>; vapid_key: string } | null;
}
