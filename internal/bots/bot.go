// Package bots holds the business rules of ChatSphere bots: who may see and change which bot,
// how names are normalised and made unique, and how a bot moves between statuses.
//
// Every query it runs is scoped to the caller in SQL, so a bot the caller may not see is never
// loaded; missing, deleted and not-yours all come back as ErrNotFound.
package bots

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/gen/db"
)

// Status is where a bot is in its lifecycle.
type Status string

// The statuses of a bot. Every new, duplicated or retrained bot starts in StatusTraining.
const (
	StatusTraining Status = "training"
	StatusActive   Status = "active"
	StatusError    Status = "error"
)

// Settings are what the owner of a bot chooses; the service keeps everything else. The JSON
// names are those of a bot kept under an idempotency key (keptBot).
type Settings struct {
	Name         string  `json:"name"`
	Description  *string `json:"description"`
	Model        string  `json:"model"`
	Temperature  float64 `json:"temperature"`
	SystemPrompt string  `json:"system_prompt"`
	IsPublic     bool    `json:"is_public"`
}

// Bot is a chatbot as the service hands it out.
type Bot struct {
	ID      uuid.UUID
	OwnerID uuid.UUID
	Settings
	Status        Status
	StatusMessage *string
	// Version counts the changes of the bot; it makes the ETag.
	Version int64
	// ConfigVersion is the number of the bot's latest version (see Version).
	ConfigVersion int32
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// fromDB converts the generated row type at the one boundary where rows leave the data layer.
func fromDB(b db.Bot) Bot {
	return Bot{
		ID:            b.ID,
		OwnerID:       b.OwnerID,
		Settings:      settingsFromDB(b),
		Status:        Status(b.Status),
		StatusMessage: b.StatusMessage,
		Version:       b.Version,
		ConfigVersion: b.ConfigVersion,
		CreatedAt:     b.CreatedAt,
		UpdatedAt:     b.UpdatedAt,
	}
}

// settingsFromDB is the owner's choices in a row.
func settingsFromDB(b db.Bot) Settings {
	return Settings{
		Name:         b.Name,
		Description:  b.Description,
		Model:        b.Model,
		Temperature:  b.Temperature,
		SystemPrompt: b.SystemPrompt,
		IsPublic:     b.IsPublic,
	}
}

// Errors the service returns for expected outcomes; anything else is unexpected.
var (
	// ErrNotFound means the bot does not exist, is deleted, or belongs to someone else and is
	// not public: the three are deliberately indistinguishable.
	ErrNotFound = errors.New("bot not found")
	// ErrForbidden means the caller may see the bot (it is public) but not change it.
	ErrForbidden = errors.New("only the owner may change this bot")
	// ErrNameTaken means another of the owner's live bots has the name, ignoring case.
	ErrNameTaken = errors.New("name taken")
	// ErrPreconditionFailed means the bot's version is not one the caller expected. The
	// service returns it as a *PreconditionError, which carries the current version.
	ErrPreconditionFailed = errors.New("bot has changed")
	// ErrNotDeleted means a restore was asked for a bot that is not deleted.
	ErrNotDeleted = errors.New("bot is not deleted")
	// ErrInvalidTransition means a status change the lifecycle does not allow; the database
	// refuses it.
	ErrInvalidTransition = errors.New("status transition not allowed")
)

// FieldError is one invalid input field, named as in the API.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError lists the input fields that break a business rule.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// add records a field error; it keeps the zero ValidationError usable.
func (e *ValidationError) add(field, format string, args ...any) {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns e as an error when it holds any field, nil otherwise.
func (e *ValidationError) err() error {
	if len(e.Fields) == 0 {
		return nil
	}
	return e
}

// Precondition limits a write to some versions of the bot (HTTP If-Match and If-None-Match).
// The zero value allows any version; Required with no Versions allows none; a version in
// Except is never allowed.
type Precondition struct {
	Required bool
	Versions []int64
	Except   []int64
}

// PreconditionError is ErrPreconditionFailed with the bot's current version, so that the
// caller can be told the current ETag and retry without reading the bot again. It is only
// returned for a bot the caller may see: one it owns for a write, or the source of a
// duplicate.
type PreconditionError struct {
	Version int64
}

func (e *PreconditionError) Error() string { return ErrPreconditionFailed.Error() }

// Is makes errors.Is(err, ErrPreconditionFailed) hold.
func (e *PreconditionError) Is(target error) bool { return target == ErrPreconditionFailed }

// CreateParams is a new bot. Defaults are the API's concern and are filled in before this.
type CreateParams = Settings

// UpdateParams lists the fields to change; nil keeps a field. Description is cleared when
// SetDescription is true and Description is nil.
type UpdateParams struct {
	Name           *string
	SetDescription bool
	Description    *string
	Model          *string
	Temperature    *float64
	SystemPrompt   *string
	IsPublic       *bool
	Precondition   Precondition
}

// DuplicateParams are the caller's choices for a copy; a nil Name asks for the default name.
type DuplicateParams struct {
	Name     *string
	IsPublic bool
}

// Deleted is the outcome of a delete.
type Deleted struct {
	ID        uuid.UUID
	DeletedAt time.Time
	// Version is the deleted bot's version: its ETag, which a restore's If-Match may name.
	Version int64
}
