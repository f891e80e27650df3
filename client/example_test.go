package client_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"

	"github.com/google/uuid"

	"github.com/chatsphere/bots/client"
)

// Create a bot, change it without overwriting anyone else's change, and list every bot.
// The examples need a running server, so they are compiled but not run.
func Example() {
	ctx := context.Background()
	c, err := client.New("http://localhost:8080", os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	bot, err := c.Create(ctx, client.CreateParams{Name: "Support", Model: "gpt-4o-mini"})
	if err != nil {
		log.Fatal(err)
	}
	bot, err = c.Update(ctx, bot.ID, func(b *client.Bot) error {
		b.Temperature = 0.2
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bot.Name, bot.Temperature, bot.ETag)
	for b, err := range c.All(ctx, client.ListOptions{Sort: client.SortName}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(b.Name)
	}
}

// Every answer that is not a success is a *Problem; a 422 lists the fields at fault.
func ExampleProblem() {
	c, err := client.New("http://localhost:8080", os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	temperature := 3.0
	_, err = c.Create(context.Background(), client.CreateParams{Name: "Hot", Model: "gpt-4o-mini", Temperature: &temperature})
	var p *client.Problem
	if errors.As(err, &p) && p.Status == http.StatusUnprocessableEntity {
		for _, f := range p.Errors {
			fmt.Printf("%s: %s\n", f.Field, f.Message)
		}
	}
}

// Update reads the bot, applies the function and writes with If-Match; when another writer
// got there first it reads again and applies the function to the new state.
func ExampleClient_Update() {
	c, err := client.New("http://localhost:8080", os.Getenv("BOTS_TOKEN"))
	if err != nil {
		log.Fatal(err)
	}
	id := uuid.MustParse(os.Getenv("BOT_ID"))
	bot, err := c.Update(context.Background(), id, func(b *client.Bot) error {
		b.Description = nil // clears the description
		b.IsPublic = true
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(bot.ETag)
}
